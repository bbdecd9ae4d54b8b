using System.Text;
using Wsd.Archive;
using Wsd.Interop;
using Wsd.Tests.Support;

namespace Wsd.Tests.Archive;

/// <summary>
/// Sparse files both ways (docs/decisions.md#later-decisions): wsd finds data with SEEK_DATA/SEEK_HOLE
/// and stores only it in PAX sparse format 1.0, GNU tar and bsdtar restore that with the holes, and wsd
/// restores holes as holes whoever wrote the archive. "Allocated" is st_blocks, what the file really
/// costs on disk.
/// </summary>
public class SparseFileTests
{
    const long MiB = 1 << 20;

    /// <summary>A file of <paramref name="size"/> bytes with 4 KiB of data at each offset and holes elsewhere.</summary>
    static void MakeSparse(string path, long size, params long[] dataAt)
    {
        using var file = File.Create(path);
        file.SetLength(size);
        foreach (long at in dataAt)
        {
            file.Position = at;
            file.Write(SampleTree.Pattern(4096));
        }
    }

    static long Allocated(string path) => (long)TreeSnapshot.Stat(path).Blocks * 512;

    static ArchiveStats WsdCreate(string source, string archive)
    {
        using var output = File.Create(archive);
        return ArchiveWriter.Write(source, output);
    }

    static ArchiveStats WsdExtract(string archive, string destination)
    {
        using var input = File.OpenRead(archive);
        return ArchiveExtractor.Extract(input, destination);
    }

    [Fact]
    public void AFileWithHolesIsStoredAsItsDataAloneAndRestoredWithItsHoles()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("src"));
        MakeSparse(dir.Combine("src/sparse.img"), 64 * MiB, 0, 5 * MiB, 64 * MiB - 4096);

        var written = WsdCreate(dir.Combine("src"), dir.Combine("a.tar"));
        var read = WsdExtract(dir.Combine("a.tar"), dir.Combine("dst"));

        Assert.True(new FileInfo(dir.Combine("a.tar")).Length < 32 * 1024, $"archive of {new FileInfo(dir.Combine("a.tar")).Length} bytes");
        Assert.Equal((1, 1, 3 * 4096L), (written.SparseFiles, read.SparseFiles, written.DataBytes));
        Assert.Equal(File.ReadAllBytes(dir.Combine("src/sparse.img")), File.ReadAllBytes(dir.Combine("dst/sparse.img")));
        Assert.True(Allocated(dir.Combine("dst/sparse.img")) <= 1 * MiB, $"{Allocated(dir.Combine("dst/sparse.img"))} bytes allocated");
        Assert.Equal(TreeSnapshot.Of(dir.Combine("src")), TreeSnapshot.Of(dir.Combine("dst")));
    }

    [Theory]
    [InlineData("tar")]
    [InlineData("bsdtar")]
    public void GnuTarAndBsdtarRestoreWhatWsdWritesWithTheHoles(string tool)
    {
        Tools.Require(tool, tool == "tar" ? "tar" : "libarchive-tools");
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("src/sub"));
        MakeSparse(dir.Combine("src/sub/sparse.img"), 64 * MiB, 8 * MiB, 20 * MiB); // starts and ends with a hole
        File.WriteAllText(dir.Combine("src/dense"), "plain");
        WsdCreate(dir.Combine("src"), dir.Combine("a.tar"));
        Directory.CreateDirectory(dir.Combine("dst"));

        string listing = Tools.Ok(tool, dir.Path, "-tvf", "a.tar");
        Tools.Ok(tool, dir.Path, "-xf", "a.tar", "-C", "dst");

        Assert.Contains("sub/sparse.img", listing);
        Assert.DoesNotContain("GNUSparseFile", listing);
        Assert.Contains((64 * MiB).ToString(), listing);
        Assert.Equal(TreeSnapshot.Of(dir.Combine("src"), directoryTimes: false), TreeSnapshot.Of(dir.Combine("dst"), directoryTimes: false));
        Assert.True(Allocated(dir.Combine("dst/sub/sparse.img")) <= 1 * MiB, $"{tool} allocated {Allocated(dir.Combine("dst/sub/sparse.img"))} bytes");
    }

    [Fact]
    public void WsdAndGnuTarGiveTheSameListingOfASparseFile()
    {
        Tools.Require("tar", "tar");
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("src"));
        MakeSparse(dir.Combine("src/sparse.img"), 16 * MiB, 4 * MiB, 12 * MiB);
        WsdCreate(dir.Combine("src"), dir.Combine("wsd.tar"));
        Tools.Ok("tar", dir.Combine("src"), "--format=pax", "--sparse", "--sparse-version=1.0", "-cf", dir.Combine("gnu.tar"), "sparse.img");

        // GNU tar's own view of both archives: the same member, size and sparse map.
        string Listing(string archive) => Tools.Ok("tar", dir.Path, "--list", "--verbose", "--numeric-owner", "--full-time", "--file", archive)
            .Replace("./", "");

        Assert.Equal(Listing("gnu.tar"), Listing("wsd.tar"));
        Assert.True(new FileInfo(dir.Combine("wsd.tar")).Length <= new FileInfo(dir.Combine("gnu.tar")).Length + 1024);
    }

    [Fact]
    public void AFileThatIsAllHoleIsAMapWithoutData()
    {
        Assert.SkipUnless(Directory.Exists("/dev/shm"), "needs tmpfs at /dev/shm for a 1 PiB file");
        string dir = Directory.CreateTempSubdirectory("wsd-test-").FullName;
        string shm = Path.Combine("/dev/shm", Path.GetFileName(dir));
        try
        {
            Directory.CreateDirectory(Path.Combine(shm, "src"));
            using (var file = File.Create(Path.Combine(shm, "src/holes")))
                file.SetLength(1L << 50);

            var written = WsdCreate(Path.Combine(shm, "src"), Path.Combine(dir, "a.tar"));
            WsdExtract(Path.Combine(dir, "a.tar"), Path.Combine(shm, "dst"));

            Assert.Equal(0, written.DataBytes);
            Assert.True(new FileInfo(Path.Combine(dir, "a.tar")).Length <= 4 * 512 + 1024);
            Assert.Equal(1L << 50, new FileInfo(Path.Combine(shm, "dst/holes")).Length);
            Assert.Equal(0, Allocated(Path.Combine(shm, "dst/holes")));
        }
        finally
        {
            Directory.Delete(shm, recursive: true);
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void DenseFilesStayPlain()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("src"));
        File.WriteAllBytes(dir.Combine("src/dense"), SampleTree.Pattern(3 * (int)MiB));
        File.WriteAllBytes(dir.Combine("src/zeros"), new byte[1 * MiB]); // zeros written are data, not holes

        var written = WsdCreate(dir.Combine("src"), dir.Combine("a.tar"));

        Assert.Equal(0, written.SparseFiles);
        Assert.DoesNotContain("GNU.sparse", Encoding.Latin1.GetString(File.ReadAllBytes(dir.Combine("a.tar"))));
    }

    [Fact]
    public void AHandMadeSparseArchiveIsRestoredWithoutWritingItsHoles()
    {
        using var dir = new TempDirectory();
        long realSize = 1L << 30;
        string map = $"2\n0\n5\n{realSize - 5}\n5\n";
        var archive = new RawTar()
            .Pax(("GNU.sparse.major", "1"), ("GNU.sparse.minor", "0"), ("GNU.sparse.name", "big"), ("GNU.sparse.realsize", realSize.ToString()))
            .File("GNUSparseFile.0/big", map + new string('\0', 512 - map.Length) + "helloworld")
            .Build();
        File.WriteAllBytes(dir.Combine("a.tar"), archive);

        WsdExtract(dir.Combine("a.tar"), dir.Combine("dst"));

        using var restored = File.OpenRead(dir.Combine("dst/big"));
        Assert.Equal(realSize, restored.Length);
        var ends = new byte[5];
        restored.ReadExactly(ends);
        Assert.Equal("hello", Encoding.ASCII.GetString(ends));
        Assert.True(Allocated(dir.Combine("dst/big")) <= 64 * 1024, $"{Allocated(dir.Combine("dst/big"))} bytes allocated");
    }

    [Fact]
    public void TooManyRegionsAreFoldedIntoFewerWithEveryByteOfDataKept()
    {
        var map = new List<(long Offset, long Length)>();
        for (long i = 0, offset = 0; i < SparseRegions.MaxRegions; i++, offset += 4096 + 4096 * (1 + (i % 3) * 16))
            map.Add((offset, 4096)); // holes of 4 KiB, 68 KiB and 132 KiB in turn
        var original = map.ToList();

        long minimumHole = SparseRegions.Coalesce(map, 0);

        Assert.True(map.Count <= SparseRegions.MaxRegions / 2, $"{map.Count} regions");
        Assert.True(minimumHole > 0);
        for (int i = 1; i < map.Count; i++)
            Assert.True(map[i].Offset >= map[i - 1].Offset + map[i - 1].Length + minimumHole, "regions stay sorted, apart by the kept holes");
        int at = 0;
        foreach (var (offset, length) in original)
        {
            while (map[at].Offset + map[at].Length < offset + length)
                at++;
            Assert.True(map[at].Offset <= offset, $"data at {offset} is outside every region");
        }
    }
}
