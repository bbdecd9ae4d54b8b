using Wsd.Archive;
using Wsd.Tests.Support;

namespace Wsd.Tests.Archive;

/// <summary>
/// wsd's archives against the two tar implementations operators have: what wsd writes, GNU tar and
/// bsdtar extract with the same content, modes, numeric owners, links and mtimes; what they write
/// (ustar, pax, gnu, long names, hardlinks, sparse files, xattrs), wsd extracts (docs/decisions.md#archives).
/// </summary>
public class GnuTarCompatibilityTests
{
    static void WsdCreate(string source, string archive)
    {
        using var output = File.Create(archive);
        ArchiveWriter.Write(source, output);
    }

    static ArchiveStats WsdExtract(string archive, string destination, bool devices = true)
    {
        using var input = File.OpenRead(archive);
        return ArchiveExtractor.Extract(input, destination, new ArchiveReadOptions { AllowDevices = devices });
    }

    static string WithoutSockets(string snapshot) =>
        string.Join('\n', snapshot.Split('\n').Where(line => !line.Contains(" socket ")));

    [Fact]
    public void GnuTarExtractsWhatWsdWrites()
    {
        Tools.Require("tar", "tar");
        using var dir = new TempDirectory();
        using var tree = SampleTree.Create(dir.Combine("src"));
        WsdCreate(dir.Combine("src"), dir.Combine("wsd.tar"));
        Directory.CreateDirectory(dir.Combine("gnu"));

        Tools.Ok("tar", dir.Path, "--extract", "--file", "wsd.tar", "--directory", "gnu",
            "--preserve-permissions", "--same-owner", "--numeric-owner", "--xattrs", "--xattrs-include=*");

        Assert.Equal(WithoutSockets(TreeSnapshot.Of(dir.Combine("src"))), TreeSnapshot.Of(dir.Combine("gnu")));
    }

    [Fact]
    public void BsdtarExtractsWhatWsdWrites()
    {
        Tools.Require("bsdtar", "libarchive-tools");
        using var dir = new TempDirectory();
        using var tree = SampleTree.Create(dir.Combine("src"));
        WsdCreate(dir.Combine("src"), dir.Combine("wsd.tar"));
        Directory.CreateDirectory(dir.Combine("bsd"));

        Tools.Ok("bsdtar", dir.Path, "-x", "-f", "wsd.tar", "-C", "bsd", "-p", "--numeric-owner", "--xattrs");

        Assert.Equal(WithoutSockets(TreeSnapshot.Of(dir.Combine("src"))), TreeSnapshot.Of(dir.Combine("bsd")));
    }

    [Theory]
    [InlineData("gnu")]
    [InlineData("posix")]
    [InlineData("ustar")]
    public void WsdExtractsWhatGnuTarWrites(string format)
    {
        Tools.Require("tar", "tar");
        using var dir = new TempDirectory();
        using var tree = SampleTree.Create(dir.Combine("src"));
        // ustar cannot hold the deep path nor the long symlink target: leave them out for that format.
        string[] excludes = format == "ustar" ? ["--exclude=./deep", "--exclude=./links/long"] : [];
        string[] xattrs = format == "posix" ? ["--xattrs", "--xattrs-include=*"] : [];
        Tools.Ok("tar", dir.Combine("src"), [$"--format={format}", "--numeric-owner", .. xattrs, .. excludes, "-cf", dir.Combine("gnu.tar"), "."]);

        WsdExtract(dir.Combine("gnu.tar"), dir.Combine("dst"));

        Assert.Equal(Expected(dir.Combine("src"), pax: format == "posix", ustar: format == "ustar"), TreeSnapshot.Of(dir.Combine("dst"), directoryTimes: false));
    }

    [Theory]
    [InlineData("pax")]
    [InlineData("ustar")]
    [InlineData("gnutar")]
    public void WsdExtractsWhatBsdtarWrites(string format)
    {
        Tools.Require("bsdtar", "libarchive-tools");
        using var dir = new TempDirectory();
        using var tree = SampleTree.Create(dir.Combine("src"));
        string[] excludes = format == "ustar" ? ["--exclude", "./deep", "--exclude", "./links/long"] : [];
        Tools.Ok("bsdtar", dir.Combine("src"), ["--format", format, "--numeric-owner", .. excludes, "-cf", dir.Combine("bsd.tar"), "."]);

        WsdExtract(dir.Combine("bsd.tar"), dir.Combine("dst"));

        Assert.Equal(Expected(dir.Combine("src"), pax: format == "pax", ustar: format == "ustar"), TreeSnapshot.Of(dir.Combine("dst"), directoryTimes: false));
    }

    [Theory]
    [InlineData("tar", new[] { "--format=gnu", "--sparse" })]
    [InlineData("tar", new[] { "--format=posix", "--sparse", "--sparse-version=1.0" })]
    [InlineData("tar", new[] { "--format=posix", "--sparse", "--sparse-version=0.1" })]
    [InlineData("bsdtar", new[] { "--format", "pax", "--read-sparse" })]
    public void SparseFilesFromOtherToolsRestoreWithTheirHoles(string tool, string[] flags)
    {
        Tools.Require(tool, tool == "tar" ? "tar" : "libarchive-tools");
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("src"));
        string sparse = dir.Combine("src/sparse.img");
        using (var file = File.Create(sparse))
        {
            file.SetLength(64L << 20);
            foreach (long at in new[] { 0L, 5L << 20, (64L << 20) - 4096 })
            {
                file.Position = at;
                file.Write(SampleTree.Pattern(4096));
            }
        }
        Tools.Ok(tool, dir.Combine("src"), [.. flags, "-cf", dir.Combine("sparse.tar"), "sparse.img"]);

        WsdExtract(dir.Combine("sparse.tar"), dir.Combine("dst"));

        Assert.Equal(File.ReadAllBytes(sparse), File.ReadAllBytes(dir.Combine("dst/sparse.img")));
        long allocated = long.Parse(Tools.Ok("stat", dir.Path, "-c", "%b", "dst/sparse.img").Trim()) * 512;
        Assert.True(allocated < 8L << 20, $"the restored file should keep its holes, but {allocated} bytes are allocated");
    }

    [Fact]
    public void HardLinksFromGnuTarStayHardLinks()
    {
        Tools.Require("tar", "tar");
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("src/a"));
        File.WriteAllText(dir.Combine("src/a/one"), "shared");
        Tools.Ok("ln", dir.Combine("src"), "a/one", "two");
        Tools.Ok("tar", dir.Combine("src"), "-cf", dir.Combine("links.tar"), ".");

        WsdExtract(dir.Combine("links.tar"), dir.Combine("dst"));

        Assert.Equal(TreeSnapshot.Stat(dir.Combine("dst/a/one")).Ino, TreeSnapshot.Stat(dir.Combine("dst/two")).Ino);
    }

    /// <summary>
    /// The source as another tool's archive can carry it: no socket; only pax carries sub-second
    /// mtimes and xattrs; ustar archives were made without the paths it cannot hold.
    /// </summary>
    static string Expected(string source, bool pax, bool ustar) =>
        string.Join('\n', TreeSnapshot.Of(source, directoryTimes: false).Split('\n')
            .Where(line => !line.Contains(" socket "))
            .Where(line => !ustar || !(line.StartsWith("deep") || line.StartsWith("links/long ")))
            .Select(line => pax ? line : StripXattrs(line.Replace(".123456789", ".000000000"))));

    static string StripXattrs(string line)
    {
        int at = line.IndexOf(" xattr:", StringComparison.Ordinal);
        return at < 0 ? line : line[..at];
    }
}
