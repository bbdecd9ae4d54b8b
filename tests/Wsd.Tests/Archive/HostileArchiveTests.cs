using System.Text;
using Wsd.Archive;
using Wsd.Archive.Streams;
using Wsd.Tests.Support;

namespace Wsd.Tests.Archive;

/// <summary>
/// Archives made to escape, confuse or hang the extractor (docs/decisions.md#archives). Each ends in a
/// clear error or a counted, safe skip; none writes outside the destination, and none hangs.
/// </summary>
public sealed class HostileArchiveTests : IDisposable
{
    readonly TempDirectory _dir = new();
    string Destination => _dir.Combine("dst");
    string Outside => _dir.Combine("outside");

    public HostileArchiveTests()
    {
        System.IO.Directory.CreateDirectory(Outside);
        File.WriteAllText(Path.Combine(Outside, "canary"), "untouched");
    }

    public void Dispose() => _dir.Dispose();

    ArchiveStats Extract(byte[] archive, bool devices = false)
    {
        using var input = new MemoryStream(archive);
        using var tar = ArchiveCompression.OpenForReading(input, out _);
        var extraction = Task.Run(() => ArchiveExtractor.Extract(tar, Destination, new ArchiveReadOptions { AllowDevices = devices }));
        // Waited on without Wait(), which would wrap the extractor's own error in an AggregateException.
        Assert.True(((IAsyncResult)extraction).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(30)), "extraction hung");
        return extraction.GetAwaiter().GetResult();
    }

    // The extractor's own refusal, never an accident such as a NullReferenceException.
    string Refused(byte[] archive) => Refused<ArchiveException>(archive);

    string Refused<TError>(byte[] archive) where TError : Exception
    {
        var e = Assert.ThrowsAny<TError>(() => Extract(archive));
        AssertOutsideUntouched();
        return e.Message;
    }

    void AssertOutsideUntouched()
    {
        Assert.Equal(["canary"], System.IO.Directory.GetFileSystemEntries(Outside).Select(Path.GetFileName));
        Assert.Equal("untouched", File.ReadAllText(Path.Combine(Outside, "canary")));
        Assert.False(File.Exists(_dir.Combine("escaped")));
    }

    [Fact]
    public void AbsoluteNamesAreRefused()
    {
        string message = Refused(new RawTar().File(_dir.Combine("escaped"), "x").Build());

        Assert.Contains("absolute", message);
    }

    [Theory]
    [InlineData("../escaped")]
    [InlineData("a/../../escaped")]
    [InlineData("./a/b/../../../escaped")]
    public void DotDotComponentsAreRefused(string name)
    {
        string message = Refused(new RawTar().File(name, "x").Build());

        Assert.Contains("'..'", message);
    }

    [Fact]
    public void AFileBelowAPlantedSymlinkIsRefused()
    {
        var archive = new RawTar()
            .Symlink("link", Outside)
            .File("link/canary", "overwritten through a symlink")
            .Build();

        string message = Refused(archive);

        Assert.Contains("symlink", message);
    }

    [Fact]
    public void ADirectoryBelowAPlantedRelativeSymlinkIsRefused()
    {
        var archive = new RawTar()
            .Directory("a/")
            .Symlink("a/up", "../../outside")
            .Directory("a/up/newdir/")
            .File("a/up/newdir/file", "x")
            .Build();

        Refused(archive);
    }

    [Fact]
    public void ASymlinkInTheWayOfAFileIsReplacedNotFollowed()
    {
        var archive = new RawTar()
            .Symlink("canary", Path.Combine(Outside, "canary"))
            .File("canary", "replaced the link")
            .Build();

        Extract(archive);

        AssertOutsideUntouched();
        Assert.Equal("replaced the link", File.ReadAllText(Path.Combine(Destination, "canary")));
        Assert.Null(new FileInfo(Path.Combine(Destination, "canary")).LinkTarget);
    }

    [Theory]
    [InlineData("../outside/canary")]
    [InlineData("/etc/passwd")]
    public void HardLinksOutsideTheDestinationAreRefused(string target)
    {
        string message = Refused(new RawTar().HardLink("h", target).Build());

        Assert.True(message.Contains("'..'") || message.Contains("absolute"), message);
    }

    [Fact]
    public void AHardLinkThroughAPlantedSymlinkIsRefused()
    {
        var archive = new RawTar()
            .Symlink("link", Outside)
            .HardLink("stolen", "link/canary")
            .Build();

        string message = Refused(archive);

        Assert.Contains("symlink", message);
        Assert.False(File.Exists(Path.Combine(Destination, "stolen")));
    }

    [Fact]
    public void AHardLinkToAMemberNotYetExtractedIsAnError()
    {
        string message = Refused(new RawTar().HardLink("h", "not-there").Build());

        Assert.Contains("not in the archive before it", message);
    }

    [Fact]
    public void DeviceNodesAreSkippedAndCountedWhenNotAllowed()
    {
        var stats = Extract(new RawTar().CharDevice("mem", 1, 1).File("after", "still restored").Build());

        Assert.Equal(1, stats.DevicesSkipped);
        Assert.False(File.Exists(Path.Combine(Destination, "mem")));
        Assert.Equal("still restored", File.ReadAllText(Path.Combine(Destination, "after")));
    }

    [Fact]
    public void AHugeSizeFieldEndsAsTruncatedNotAsAnAllocationOrHang()
    {
        var size = new byte[12];
        size[0] = 0x80;
        for (int i = 4; i < 12; i++)
            size[i] = 0xFF; // 2^64-1 in base-256 — more than a long: corrupt
        Assert.Contains("size", Refused(new RawTar().Entry("big", '0', [], sizeField: size, writeContent: false).Build()));

        var large = new byte[12];
        large[0] = 0x80;
        large[4] = 0x7F; // about 2^63 bytes promised, none present
        Assert.Contains("truncated", Refused(new RawTar().Entry("big", '0', [], sizeField: large, writeContent: false).Build()));
    }

    [Fact]
    public void ANegativeBase256SizeIsRefused()
    {
        var negative = Enumerable.Repeat((byte)0xFF, 12).ToArray();

        Assert.Contains("size", Refused(new RawTar().Entry("neg", '0', [], sizeField: negative, writeContent: false).Build()));
    }

    [Fact]
    public void AGiantPaxHeaderIsRefusedBeforeItIsRead()
    {
        var size = Encoding.ASCII.GetBytes("77777777777\0"); // 8 GiB of PAX records
        var archive = new RawTar().Entry("././@PaxHeader", 'x', [], sizeField: size, writeContent: false).Build();

        Assert.Contains("exceeds", Refused(archive));
    }

    [Theory]
    [InlineData("99 path=x\n")]
    [InlineData("5 path=x\n")]
    [InlineData("garbage\n")]
    [InlineData("9 pathx\n")]
    public void MalformedPaxRecordsAreRefused(string records)
    {
        var archive = new RawTar().Entry("././@PaxHeader", 'x', Encoding.ASCII.GetBytes(records)).File("f", "x").Build();

        Assert.Contains("PAX", Refused(archive));
    }

    [Fact]
    public void APaxPathCannotEscapeEither()
    {
        var archive = new RawTar().Pax(("path", "../../escaped")).File("harmless", "x").Build();

        Assert.Contains("'..'", Refused(archive));
    }

    [Fact]
    public void AnOverlongGnuLongNameIsRefused()
    {
        var archive = new RawTar().Entry("././@LongLink", 'L', new byte[8192]).File("f", "x").Build();

        Assert.Contains("long name", Refused(archive));
    }

    [Fact]
    public void ATruncatedMemberIsAnError()
    {
        var whole = new RawTar().File("f", new string('x', 5000)).BuildWithoutEnd();

        Assert.Contains("truncated", Refused(whole[..2048]));
    }

    [Fact]
    public void AnArchiveCutInsideAHeaderIsAnError()
    {
        var whole = new RawTar().File("a", "x").File("b", "y").BuildWithoutEnd();

        Assert.Contains("truncated", Refused(whole[..(1024 + 100)]));
    }

    [Fact]
    public void AMissingEndMarkerIsAnError()
    {
        Assert.Contains("end-of-archive", Refused(new RawTar().File("a", "x").BuildWithoutEnd()));
    }

    [Fact]
    public void GarbageIsNotATarArchive()
    {
        var garbage = new byte[64 * 1024];
        new Random(42).NextBytes(garbage);

        Assert.Contains("not a tar archive", Refused(garbage));
    }

    [Fact]
    public void ACorruptChecksumMidwayIsAnError()
    {
        var archive = new RawTar().File("a", "x").Entry("b", '0', "y"u8.ToArray(), corruptChecksum: true).Build();

        Assert.Contains("checksum", Refused(archive));
    }

    [Fact]
    public void EmptyInputIsAnError()
    {
        Assert.Contains("empty", Refused([]));
    }

    [Fact]
    public void ASparseMapPastTheFileIsRefused()
    {
        var archive = new RawTar()
            .Pax(("GNU.sparse.major", "1"), ("GNU.sparse.minor", "0"), ("GNU.sparse.name", "s"), ("GNU.sparse.realsize", "10"))
            .File("GNUSparseFile.0/s", "1\n100\n5\n" + new string('\0', 512 - 9) + "xxxxx")
            .Build();

        Assert.Contains("sparse", Refused(archive));
    }

    [Fact]
    public void CorruptZstdIsAnErrorNotAHang()
    {
        byte[] corrupt = [0x28, 0xB5, 0x2F, 0xFD, .. Enumerable.Repeat((byte)0xAB, 4096)];

        Refused<IOException>(corrupt); // the decompressor's error: the archive layer never sees a record
    }

    [Fact]
    public void AMemberReplacingTheDestinationItselfIsRefused()
    {
        Assert.Contains("destination directory itself", Refused(new RawTar().File("./", "x").Build()));
    }

    [Fact]
    public void TrustedAndOverlayXattrsAreNeverRestored()
    {
        Tools.RequireRoot("trusted.* xattrs can only be set by root, so their absence proves the filter");
        var archive = new RawTar()
            .Pax(("SCHILY.xattr.trusted.overlay.opaque", "y"), ("SCHILY.xattr.user.overlay.origin", "z"),
                 ("SCHILY.xattr.security.selinux", "system_u:object_r:etc_t"), ("SCHILY.xattr.user.kept", "yes"))
            .File("f", "content")
            .Build();

        Extract(archive);

        string listing = Tools.Ok("getfattr", Destination, "-d", "-m", "-", "f");
        Assert.Contains("user.kept=\"yes\"", listing);
        Assert.DoesNotContain("trusted.", listing);
        Assert.DoesNotContain("overlay.origin", listing);
        Assert.DoesNotContain("selinux", listing);
    }

    [Fact]
    public void ANulInAPaxPathIsRefused()
    {
        var archive = new RawTar().Pax(("path", "ok\0/../../escaped")).File("f", "x").Build();

        Assert.Contains("NUL", Refused(archive));
    }

    /// <summary>A PAX 1.0 sparse member: the map as given, padded to a block when <paramref name="pad"/>, then the data.</summary>
    static byte[] SparseArchive(string realSize, string map, string data, bool pad = true) => new RawTar()
        .Pax(("GNU.sparse.major", "1"), ("GNU.sparse.minor", "0"), ("GNU.sparse.name", "s"), ("GNU.sparse.realsize", realSize))
        .File("GNUSparseFile.0/s", (pad ? map.PadRight((map.Length + 511) / 512 * 512, '\0') : map) + data)
        .Build();

    [Theory]
    [InlineData("2\n0\n10\n5\n10\n", "overlap")] // the second region starts inside the first
    [InlineData("2\n50\n10\n0\n10\n", "out of order")]
    [InlineData("1\n95\n10\n", "past the file")] // ends at 105 in a 100-byte file
    public void SparseRegionsThatOverlapAreUnsortedOrLiePastTheEndAreRefused(string map, string expected)
    {
        Assert.Contains(expected, Refused(SparseArchive("100", map, new string('x', 20))));
        Assert.False(File.Exists(Path.Combine(Destination, "s")));
    }

    [Fact]
    public void ASparseMapWithMoreRegionsThanTheLimitIsRefusedBeforeItIsRead()
    {
        Assert.Contains("exceeds", Refused(SparseArchive("100", $"{TarEntryReader.MaxSparseRegions + 1}\n", "")));
    }

    [Fact]
    public void ASparseRealSizeBeyondTheLimitIsRefused()
    {
        string realSize = (TarEntryReader.MaxSparseRealSize + 1).ToString();

        Assert.Contains("exceeds", Refused(SparseArchive(realSize, $"1\n{TarEntryReader.MaxSparseRealSize}\n5\n", "xxxxx")));
    }

    [Fact]
    public void ASparseMapThatRunsPastItsMemberIsRefused()
    {
        // The map promises three regions but the member's data ends after one: the next header is not read as map.
        var archive = SparseArchive("100", "3\n0\n5\n", "", pad: false);

        Assert.Contains("larger than its member", Refused(archive));
    }

    [Theory]
    [InlineData("1\n99999999999999999999\n5\n")] // 20 digits
    [InlineData("1\n9999999999999999999\n5\n")] // 19 digits, past long.MaxValue
    [InlineData("1\n-5\n5\n")]
    [InlineData("1\n\n5\n")]
    public void ASparseMapWithNumbersThatAreNotOffsetsIsRefused(string map)
    {
        Assert.Contains("sparse map", Refused(SparseArchive("100", map, "xxxxx")));
    }

    [Fact]
    public void AnOldGnuSparseHeaderWithRegionsOutOfOrderIsRefused()
    {
        // 'S' header: regions (offset, size) at 386 as 12-digit octal pairs, real size at 483.
        var header = new RawTar().Entry("s", 'S', "0123456789"u8.ToArray()).BuildWithoutEnd();
        void Octal(int offset, long value) => Encoding.ASCII.GetBytes(Convert.ToString(value, 8).PadLeft(11, '0') + "\0").CopyTo(header, offset);
        Octal(386, 50);
        Octal(398, 5);
        Octal(410, 0);
        Octal(422, 5);
        Octal(483, 100);
        for (int i = 148; i < 156; i++)
            header[i] = (byte)' ';
        Encoding.ASCII.GetBytes(Convert.ToString(header.AsSpan(0, 512).ToArray().Sum(b => b), 8).PadLeft(6, '0') + "\0 ").CopyTo(header, 148);

        Assert.Contains("sparse", Refused([.. header, .. new byte[1024]]));
    }
}
