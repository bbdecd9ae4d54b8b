using System.Text;
using Wsd.Errors;
using Wsd.Storage.Chunked;

namespace Wsd.Tests.Storage;

public class ChunkedManifestTests
{
    static readonly ChunkedManifest Sample = new(1_234_567_890,
    [
        new(ChunkId.Of("pack-1"u8), new PackEntry(ChunkId.Of("first"u8), 0, 9_000, 16_000, Compressed: true)),
        new(ChunkId.Of("pack-2"u8), new PackEntry(ChunkId.Of("second"u8), 123_456, 9, 9, Compressed: false)),
    ]);

    const string Zeros = "0000000000000000000000000000000000000000000000000000000000000000";

    static WsdException Refused(string text) =>
        Assert.Throws<WsdException>(() => ChunkedManifest.Parse([.. ChunkedManifest.Preamble, .. Encoding.UTF8.GetBytes(text)], "user-1/workspaces/m/full.tar"));

    [Fact]
    public void AManifestReadsBackAsWritten()
    {
        byte[] bytes = Sample.ToBytes();

        var read = ChunkedManifest.Parse(bytes, "m");

        Assert.Equal(Sample.StreamLength, read.StreamLength);
        Assert.Equal(Sample.Recipe, read.Recipe);
        Assert.True(ChunkedManifest.IsManifest(bytes));
    }

    [Fact]
    public void NoTarArchiveCanBeTakenForAManifest()
    {
        // A tar header's checksum (bytes 148-155) is octal digits, spaces and NULs; the preamble has letters there.
        var checksumField = ChunkedManifest.Preamble[148..156].ToArray();
        Assert.Contains(checksumField, b => b is not ((>= (byte)'0' and <= (byte)'7') or (byte)' ' or 0));

        // And an archive named as the preamble's first line is still an archive.
        using var dir = new Support.TempDirectory();
        File.WriteAllText(dir.Combine("wsd-chunked-v1"), "x");
        using var tar = new MemoryStream();
        Wsd.Archive.ArchiveWriter.Write(dir.Path, tar);
        Assert.False(ChunkedManifest.IsManifest(tar.ToArray()));
        Assert.False(ChunkedManifest.IsManifest("wsd-chunked-v1\n"u8)); // the first line alone is not the preamble
    }

    [Theory]
    [InlineData("", "its last line is cut short")]
    [InlineData("length 12", "its last line is cut short")]
    [InlineData("length -1\n", "line 4 is \"length -1\", not \"length <bytes>\"")]
    [InlineData("size 12\n", "line 4 is \"size 12\"")]
    [InlineData("length 12\nrecipe ABCD 5\n", "line 5 is \"recipe ABCD 5\", not \"recipe <chunk sha256> <pack sha256>")]
    [InlineData("length 12\nrecipe " + Zeros + " " + Zeros + " 0 99999999 99999999 plain\n", "line 5")]
    [InlineData("length 12\nrecipe " + Zeros + " " + Zeros + " 0 5 6 plain\n", "line 5")] // plain, yet stored and plain lengths differ
    [InlineData("length 12\nrecipe " + Zeros + " " + Zeros + " -1 5 5 plain\n", "line 5")]
    [InlineData("length 12\nrecipe " + Zeros + " " + Zeros + " 0 5 5 lz4\n", "line 5")]
    [InlineData("length 12\nrecipe " + Zeros + " " + Zeros + " 0 5 5 plain extra\n", "line 5")]
    [InlineData("length 12\n\u0001\u0002\n", "line 5 is \"??\"")]
    public void AnythingElseIsDataLossSayingWhere(string text, string expected)
    {
        var e = Refused(text);

        Assert.Equal(ErrorCode.DataLoss, e.Code);
        Assert.StartsWith("user-1/workspaces/m/full.tar is not a readable chunked-backup manifest: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void BytesThatAreNotTextOrNotAManifestAreRefused()
    {
        byte[] notText = [.. ChunkedManifest.Preamble, .. "length 1\n"u8, 0xFF, (byte)'\n'];
        Assert.Contains("is not text", Assert.Throws<WsdException>(() => ChunkedManifest.Parse(notText, "x")).Message);
        var e = Assert.Throws<WsdException>(() => ChunkedManifest.Parse("tar bytes"u8, "x"));
        Assert.Contains("does not start with the wsd-chunked-v1 preamble", e.Message);
    }
}
