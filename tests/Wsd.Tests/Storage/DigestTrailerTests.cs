using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Wsd.Archive;
using Wsd.Storage.S3;
using Wsd.Tests.Support;

namespace Wsd.Tests.Storage;

/// <summary>The digest block after a multipart archive (docs/storage-publishing.md): its format, and that tar readers never reach it.</summary>
public class DigestTrailerTests
{
    const string Sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Fact]
    public void ABlockReadsBackAsTheDigestOfTheBytesBeforeIt()
    {
        byte[] block = DigestTrailer.Build(Sha256, 10240);

        Assert.Equal(512, block.Length);
        Assert.True(DigestTrailer.TryRead(block, 10240 + 512, out string sha256));
        Assert.Equal(Sha256, sha256);
    }

    [Theory]
    [InlineData(10240)] // the block of a shorter object
    [InlineData(10240 + 1024)] // of a longer one: it is not the object's last block
    public void ABlockOutOfItsPlaceIsNotATrailer(long objectLength) =>
        Assert.False(DigestTrailer.TryRead(DigestTrailer.Build(Sha256, 10240), objectLength, out _));

    [Theory]
    [InlineData("wsd-digest-v2 sha256:" + Sha256 + " length:0\n")]
    [InlineData("wsd-digest-v1 sha256:" + "0123" + " length:0\n")]
    [InlineData("wsd-digest-v1 sha256:" + Sha256 + " length:-0\n")]
    [InlineData("wsd-digest-v1 sha256:" + Sha256 + " length:0")] // no end of line
    [InlineData("")]
    public void AnythingElseIsNotATrailer(string text)
    {
        byte[] block = new byte[512];
        Encoding.ASCII.GetBytes(text, block);

        Assert.False(DigestTrailer.TryRead(block, 512, out _));
    }

    [Fact]
    public void ABlockWithAnythingAfterItsLineIsNotATrailer()
    {
        byte[] block = DigestTrailer.Build(Sha256, 0);
        block[^1] = (byte)'x';

        Assert.False(DigestTrailer.TryRead(block, 512, out _));
    }

    [Theory]
    [InlineData("tar", "tar", "-tf")]
    [InlineData("bsdtar", "libarchive-tools", "-tf")]
    public void TarReadersStopBeforeTheTrailerAndListTheArchiveAsWritten(string tool, string package, string list)
    {
        Tools.Require(tool, package);
        using var dir = new TempDirectory();
        string tree = dir.Combine("tree");
        Directory.CreateDirectory(Path.Combine(tree, "src"));
        File.WriteAllText(Path.Combine(tree, "src", "main.go"), "package main\n");
        File.WriteAllBytes(Path.Combine(tree, "blob"), RandomNumberGenerator.GetBytes(100_000));
        string plain = dir.Combine("plain.tar"), trailed = dir.Combine("trailed.tar");
        using (var output = File.Create(plain))
            ArchiveWriter.Write(tree, output, new ArchiveWriteOptions());
        byte[] archive = File.ReadAllBytes(plain);
        File.WriteAllBytes(trailed, [.. archive, .. DigestTrailer.Build(Convert.ToHexStringLower(SHA256.HashData(archive)), archive.Length)]);

        var (plainCode, plainListing) = Run(tool, list, plain);
        var (trailedCode, trailedListing) = Run(tool, list, trailed);
        string extracted = dir.Combine("out");
        Directory.CreateDirectory(extracted);
        var (extractCode, _) = Run(tool, "-xf", trailed, "-C", extracted);

        Assert.Equal((0, 0, 0), (plainCode, trailedCode, extractCode));
        Assert.Equal(plainListing, trailedListing);
        Assert.Equal(File.ReadAllBytes(Path.Combine(tree, "blob")), File.ReadAllBytes(Path.Combine(extracted, "blob")));
    }

    static (int Code, string Output) Run(string tool, params string[] args)
    {
        var start = new ProcessStartInfo(tool, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
