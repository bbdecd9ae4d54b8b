using Wsd.Archive;
using Wsd.Archive.Streams;
using Wsd.Tests.Support;

namespace Wsd.Tests.Archive;

/// <summary>A tree written by wsd and read back by wsd keeps everything the archive contract promises (docs/decisions.md#archives).</summary>
public class RoundTripTests
{
    static (ArchiveStats Written, ArchiveStats Read) RoundTrip(string source, string destination, ArchiveWriteOptions write, ArchiveReadOptions read, int? zstd = null)
    {
        using var buffer = new MemoryStream();
        ArchiveStats written;
        if (zstd is int level)
        {
            using (var zstdStream = ArchiveCompression.Compress(buffer, level))
                written = ArchiveWriter.Write(source, zstdStream, write);
        }
        else
        {
            written = ArchiveWriter.Write(source, buffer, write);
        }
        buffer.Position = 0;
        using var tar = ArchiveCompression.OpenForReading(buffer, out bool compressed);
        Assert.Equal(zstd is not null, compressed);
        var readStats = ArchiveExtractor.Extract(tar, destination, read);
        return (written, readStats);
    }

    [Fact]
    public void EveryKindOfEntrySurvivesWithModesOwnersTimesLinksAndXattrs()
    {
        using var dir = new TempDirectory();
        using var tree = SampleTree.Create(dir.Combine("src"));

        var (written, read) = RoundTrip(dir.Combine("src"), dir.Combine("dst"),
            new ArchiveWriteOptions(), new ArchiveReadOptions { AllowDevices = true });

        Assert.Equal(Expected(dir.Combine("src")), TreeSnapshot.Of(dir.Combine("dst")));
        Assert.Equal(1, written.SocketsSkipped);
        Assert.Equal(2, written.HardLinks);
        Assert.Equal(written.Entries, read.Entries);
        Assert.Equal(written.DataBytes, read.DataBytes);
        Assert.Equal(0, written.UnmappedOwners);
    }

    // The source minus what archives leave out on purpose: the socket.
    static string Expected(string source) =>
        string.Join('\n', TreeSnapshot.Of(source).Split('\n').Where(line => !line.Contains(" socket ")));

    [Fact]
    public void CompressedArchivesRoundTripAndAreDetectedByMagic()
    {
        using var dir = new TempDirectory();
        using var tree = SampleTree.Create(dir.Combine("src"), withDevices: false);

        RoundTrip(dir.Combine("src"), dir.Combine("dst"), new ArchiveWriteOptions(), new ArchiveReadOptions(), zstd: 3);

        Assert.Equal(Expected(dir.Combine("src")), TreeSnapshot.Of(dir.Combine("dst")));
    }

    [Fact]
    public void OwnersAreShiftedToTheWorkspaceViewAndBack()
    {
        Tools.RequireRoot("chown to workspace IDs");
        using var dir = new TempDirectory();
        using var tree = SampleTree.Create(dir.Combine("src"), withDevices: false);
        using var archive = new MemoryStream();

        ArchiveWriter.Write(dir.Combine("src"), archive, new ArchiveWriteOptions { Uids = IdMap.Gitpod, Gids = IdMap.Gitpod });
        archive.Position = 0;
        // In the archive, host 133332 (the workspace's gitpod user) is 33333 and host 33333 is 0
        // (docs/compatibility.md#creating-archives).
        var listing = ListWithGnuTar(archive, dir.Path);
        Assert.Contains(listing, line => line.Contains("33333/33333") && line.EndsWith("src/lib/code.cs"));
        Assert.Contains(listing, line => line.Contains(" 0/0 ") && line.Contains("links/relative"));
        Assert.Contains(listing, line => line.Contains(" 1/2 ") && line.EndsWith("block-512"));

        archive.Position = 0;
        ArchiveExtractor.Extract(archive, dir.Combine("dst"), new ArchiveReadOptions { Uids = IdMap.Gitpod, Gids = IdMap.Gitpod });
        var code = TreeSnapshot.Stat(dir.Combine("dst/src/lib/code.cs"));
        Assert.Equal((133332u, 133332u), (code.Uid, code.Gid));
        var link = TreeSnapshot.Stat(dir.Combine("dst/links/relative"));
        Assert.Equal((33333u, 33333u), (link.Uid, link.Gid));
    }

    [Fact]
    public void FilesOwnedOutsideTheMappingAreKeptWithTheFallbackOwnerAndCounted()
    {
        Tools.RequireRoot("chown to IDs outside the mapping");
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("src"));
        File.WriteAllText(dir.Combine("src/root-owned.txt"), "root's"); // host 0 is outside the Gitpod mapping
        File.WriteAllText(dir.Combine("src/mapped.txt"), "gitpod's");
        Tools.Ok("chown", dir.Path, "133332:133332", "src/mapped.txt", "src");
        using var archive = new MemoryStream();

        var stats = ArchiveWriter.Write(dir.Combine("src"), archive, new ArchiveWriteOptions { Uids = IdMap.Gitpod, Gids = IdMap.Gitpod });

        Assert.Equal(1, stats.UnmappedOwners);
        Assert.Equal(["root-owned.txt"], stats.UnmappedSample);
        archive.Position = 0;
        ArchiveExtractor.Extract(archive, dir.Combine("dst"), new ArchiveReadOptions { Uids = IdMap.Gitpod, Gids = IdMap.Gitpod });
        Assert.Equal("root's", File.ReadAllText(dir.Combine("dst/root-owned.txt")));
        // Nobody (65534) in the workspace, as the workspace saw the file: host 100000 + 65533.
        Assert.Equal(165533u, TreeSnapshot.Stat(dir.Combine("dst/root-owned.txt")).Uid);
    }

    [Fact]
    public void DevicesAreSkippedUnlessAllowed()
    {
        Tools.RequireRoot("mknod");
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("src"));
        Tools.Ok("mknod", dir.Combine("src"), "null", "c", "1", "3");
        File.WriteAllText(dir.Combine("src/file"), "kept");
        using var archive = new MemoryStream();
        ArchiveWriter.Write(dir.Combine("src"), archive);
        archive.Position = 0;

        var stats = ArchiveExtractor.Extract(archive, dir.Combine("dst"), new ArchiveReadOptions { AllowDevices = false });

        Assert.Equal(1, stats.DevicesSkipped);
        Assert.False(File.Exists(dir.Combine("dst/null")));
        Assert.Equal("kept", File.ReadAllText(dir.Combine("dst/file")));
    }

    [Fact]
    public void ArchivesComeOutTheSameForTheSameTree()
    {
        using var dir = new TempDirectory();
        using var tree = SampleTree.Create(dir.Combine("src"), withDevices: false);
        using var first = new MemoryStream();
        using var second = new MemoryStream();

        ArchiveWriter.Write(dir.Combine("src"), first);
        ArchiveWriter.Write(dir.Combine("src"), second);

        Assert.Equal(first.ToArray(), second.ToArray());
    }

    [Fact]
    public void ExtractingOverAnExistingTreeReplacesWhatIsThere()
    {
        using var dir = new TempDirectory();
        using var tree = SampleTree.Create(dir.Combine("src"), withDevices: false);
        Directory.CreateDirectory(dir.Combine("dst/links"));
        File.WriteAllText(dir.Combine("dst/empty"), "old content that must go");
        File.CreateSymbolicLink(dir.Combine("dst/one-byte"), "/etc/passwd"); // must be replaced, not written through
        Directory.CreateDirectory(dir.Combine("dst/block-511")); // an empty directory where a file comes

        RoundTrip(dir.Combine("src"), dir.Combine("dst"), new ArchiveWriteOptions(), new ArchiveReadOptions());

        Assert.Equal(Expected(dir.Combine("src")), TreeSnapshot.Of(dir.Combine("dst")));
    }

    static string[] ListWithGnuTar(MemoryStream archive, string workingDirectory)
    {
        string path = Path.Combine(workingDirectory, "listing.tar");
        File.WriteAllBytes(path, archive.ToArray());
        return Tools.Ok("tar", workingDirectory, "--numeric-owner", "-tvf", path).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
