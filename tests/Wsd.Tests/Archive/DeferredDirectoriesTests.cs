using System.Text;
using Wsd.Archive;
using Wsd.Tests.Support;

namespace Wsd.Tests.Archive;

/// <summary>
/// Directory metadata waits only while the stream is inside the directory (finding 3): repeats are
/// one entry, the chain is as deep as the path, and an archive that comes back into a finished
/// directory still leaves that directory's mode and time as the archive says.
/// </summary>
public class DeferredDirectoriesTests
{
    static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    static List<string> PopLeft(DeferredDirectories directories, string member)
    {
        var popped = new List<string>();
        while (directories.PopLeft(B(member)) is { } entry)
            popped.Add(Encoding.UTF8.GetString(directories.PathOf(entry)));
        return popped;
    }

    [Fact]
    public void AMillionRepeatsOfOneDirectoryAreOneEntryAndTheLastRepeatWins()
    {
        var directories = new DeferredDirectories();
        for (int i = 0; i < 1_000_000; i++)
        {
            Assert.Empty(PopLeft(directories, "d"));
            directories.Defer(B("d"), (uint)(i % 512), i, 0);
        }

        Assert.Equal(1, directories.Count);
        var entry = directories.PopAny()!;
        Assert.Equal((999_999u % 512, 999_999L), (entry.Mode, entry.MtimeSeconds));
    }

    [Fact]
    public void LeavingDirectoriesFinishesThemDeepestFirstAndKeepsTheOnesStillAround()
    {
        var directories = new DeferredDirectories();
        directories.Defer([], 0x1ED, 1, 0);
        directories.Defer(B("a"), 0x1ED, 2, 0);
        directories.Defer(B("a/b"), 0x1ED, 3, 0);
        directories.Defer(B("a/b/c"), 0x1ED, 4, 0);

        Assert.Empty(PopLeft(directories, "a/b/c/file"));
        Assert.Equal(["a/b/c"], PopLeft(directories, "a/b/other"));
        Assert.Equal(["a/b", "a"], PopLeft(directories, "ab")); // "ab" is not inside "a"
        Assert.Equal(1, directories.Count); // the destination itself contains everything
    }

    [Fact]
    public void TheChainGrowsWithDepthNotWithTheNumberOfDirectories()
    {
        var directories = new DeferredDirectories();
        for (int i = 0; i < 100_000; i++)
        {
            string path = $"top/{i:D6}";
            PopLeft(directories, path);
            directories.Defer(B(path), 0x1ED, 0, 0);
        }

        Assert.Equal(1, directories.Count);
    }

    [Fact]
    public void OnlyADirectoryAlreadyLeftMayBeFinished()
    {
        var directories = new DeferredDirectories();
        directories.Defer(B("a"), 0x1ED, 0, 0);
        Assert.False(directories.MayBeFinished(B("a")));

        PopLeft(directories, "b");
        directories.Defer(B("b"), 0x1ED, 0, 0);
        PopLeft(directories, "a/x");

        Assert.True(directories.MayBeFinished(B("a")));
        Assert.False(directories.MayBeFinished(B("never-seen")));
    }

    static string Extract(byte[] archive, TempDirectory dir)
    {
        using var input = new MemoryStream(archive);
        ArchiveExtractor.Extract(input, dir.Combine("dst"));
        return dir.Combine("dst");
    }

    [Fact]
    public void AnArchiveThatComesBackIntoAFinishedReadOnlyDirectoryLeavesItsModeAndTime()
    {
        using var dir = new TempDirectory();
        var archive = new RawTar()
            .Directory("a/", mode: 0x16D) // 0555
            .File("b", "left a")
            .File("a/late", "came back")
            .Build();

        string dst = Extract(archive, dir);

        var st = TreeSnapshot.Stat(Path.Combine(dst, "a"));
        Assert.Equal((0x16Du, 1_700_000_000L), (st.Mode & 0xFFFu, st.MtimeSeconds));
        Assert.Equal("came back", File.ReadAllText(Path.Combine(dst, "a/late")));
    }

    [Fact]
    public void ARepeatedDirectoryTakesTheMetadataOfItsLastRepeat()
    {
        using var dir = new TempDirectory();
        var archive = new RawTar()
            .Directory("d/", mode: 0x1C0)
            .File("d/f", "x")
            .Directory("d/", mode: 0x1E8) // 0750
            .Build();

        string dst = Extract(archive, dir);

        Assert.Equal(0x1E8u, TreeSnapshot.Stat(Path.Combine(dst, "d")).Mode & 0xFFFu);
        Assert.Equal("x", File.ReadAllText(Path.Combine(dst, "d/f")));
    }

    [Fact]
    public void NestedDirectoriesWithoutOwnerWriteStillFill()
    {
        using var dir = new TempDirectory();
        var archive = new RawTar()
            .Directory("ro/", mode: 0x16D)
            .Directory("ro/inner/", mode: 0x124) // 0444: not even searchable
            .File("ro/inner/f", "filled")
            .Directory("next/")
            .File("next/g", "after")
            .Build();

        string dst = Extract(archive, dir);

        Assert.Equal(0x124u, TreeSnapshot.Stat(Path.Combine(dst, "ro/inner")).Mode & 0xFFFu);
        Assert.Equal(0x16Du, TreeSnapshot.Stat(Path.Combine(dst, "ro")).Mode & 0xFFFu);
        Assert.Equal("after", File.ReadAllText(Path.Combine(dst, "next/g")));
        Assert.Equal(1_700_000_000L, TreeSnapshot.Stat(Path.Combine(dst, "ro/inner")).MtimeSeconds);
    }

    [Fact]
    public void ADirectoryKeepsItsXattrsEvenWithoutOwnerWrite()
    {
        Tools.Require("getfattr", "attr");
        using var dir = new TempDirectory();
        var archive = new RawTar()
            .Pax(("SCHILY.xattr.user.origin", "archive"))
            .Directory("x/", mode: 0x16D)
            .File("x/f", "inside")
            .Build();

        string dst = Extract(archive, dir);

        Assert.Contains("user.origin=\"archive\"", Tools.Ok("getfattr", dst, "-d", "x"));
        Assert.Equal(0x16Du, TreeSnapshot.Stat(Path.Combine(dst, "x")).Mode & 0xFFFu);
    }

    [Fact]
    public void DirectoriesFromGnuTarInItsOwnOrderKeepTheirModesAndTimes()
    {
        Tools.Require("tar", "tar");
        using var dir = new TempDirectory();
        var random = new Random(3);
        for (int i = 0; i < 60; i++)
        {
            string path = dir.Combine("src", $"d{random.Next(1000)}", $"e{i % 7}", $"f{i}");
            Directory.CreateDirectory(path);
            File.WriteAllText(Path.Combine(path, "file"), path);
        }
        foreach (var directory in Directory.EnumerateDirectories(dir.Combine("src"), "*", SearchOption.AllDirectories).OrderByDescending(p => p.Length))
        {
            Directory.SetLastWriteTimeUtc(directory, new DateTime(2020, 1, 1).AddMinutes(random.Next(100_000)));
            if (random.Next(3) == 0)
                File.SetUnixFileMode(directory, (UnixFileMode)0x16D); // 0555, after its content
        }
        // Without --sort GNU tar walks in readdir order: depth-first, but not by name.
        Tools.Ok("tar", dir.Combine("src"), "--format=posix", "--numeric-owner", "-cf", dir.Combine("gnu.tar"), ".");
        using var input = File.OpenRead(dir.Combine("gnu.tar"));

        ArchiveExtractor.Extract(input, dir.Combine("dst"));

        Assert.Equal(TreeSnapshot.Of(dir.Combine("src")), TreeSnapshot.Of(dir.Combine("dst")));
    }
}
