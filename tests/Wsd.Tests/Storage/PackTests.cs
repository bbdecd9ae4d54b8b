using System.Buffers.Binary;
using Wsd.Errors;
using Wsd.Storage.Chunked;
using Wsd.Tests.Support;

namespace Wsd.Tests.Storage;

public class PackTests
{
    static readonly byte[][] Chunks =
    [
        SampleTree.Pattern(100_000), // compressible
        System.Security.Cryptography.RandomNumberGenerator.GetBytes(50_000), // not
        [],
        "a small one"u8.ToArray(),
    ];

    static (byte[] Pack, ChunkId Name, IReadOnlyList<PackEntry> Written) Write(int zstdLevel)
    {
        using var output = new MemoryStream();
        using var writer = new PackWriter(output, zstdLevel);
        foreach (var chunk in Chunks)
            writer.Add(chunk);
        writer.Finish();
        return (output.ToArray(), PackFormat.NameOf(output.ToArray()), writer.Entries.ToArray());
    }

    static PackEntry[] Open(byte[] pack)
    {
        var footer = PackReader.ReadFooter(pack.AsSpan(pack.Length - PackFormat.FooterSize), pack.Length, "p");
        return PackReader.ReadTable(pack.AsSpan((int)footer.TableOffset, footer.TableLength), footer, "p");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void ChunksComeBackAsWrittenFromThePackAlone(int zstdLevel)
    {
        var (pack, name, written) = Write(zstdLevel);

        var entries = Open(pack);

        Assert.Equal(written, entries);
        // Named by its table and footer: the part that lists every chunk by its SHA-256.
        Assert.Equal(ChunkId.Of(pack.AsSpan((int)(written.Count > 0 ? written[^1].Offset + written[^1].StoredLength : 0))), name);
        for (int i = 0; i < Chunks.Length; i++)
        {
            Assert.Equal(ChunkId.Of(Chunks[i]), entries[i].Id);
            Assert.Equal(Chunks[i], PackReader.ReadChunk(entries[i], pack.AsMemory((int)entries[i].Offset, entries[i].StoredLength), "p").ToArray());
        }
        // Compressed only where it pays: the pattern shrinks, random bytes do not.
        Assert.Equal(zstdLevel > 0, entries[0].Compressed);
        Assert.False(entries[1].Compressed);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void AChangedByteInAChunkIsDataLossNamingThePack(int zstdLevel)
    {
        var (pack, _, _) = Write(zstdLevel);
        var entry = Open(pack)[0];
        pack[entry.Offset + entry.StoredLength / 2] ^= 0x40;

        var e = Assert.Throws<WsdException>(() => PackReader.ReadChunk(entry, pack.AsMemory((int)entry.Offset, entry.StoredLength), "user-1/chunks/packs/x"));

        Assert.Equal(ErrorCode.DataLoss, e.Code);
        Assert.StartsWith("pack user-1/chunks/packs/x is damaged: chunk " + entry.Id, e.Message);
    }

    [Fact]
    public void AChangedTableIsRefusedBeforeAnyEntryIsBelieved()
    {
        var (pack, _, _) = Write(0);
        var footer = PackReader.ReadFooter(pack.AsSpan(pack.Length - PackFormat.FooterSize), pack.Length, "p");
        // A forged entry: a huge plain length, to make a reader allocate.
        BinaryPrimitives.WriteInt32BigEndian(pack.AsSpan((int)footer.TableOffset + 44), int.MaxValue);

        var e = Assert.Throws<WsdException>(() => PackReader.ReadTable(pack.AsSpan((int)footer.TableOffset, footer.TableLength), footer, "p"));

        Assert.Equal("pack p is damaged: its table does not match the SHA-256 its footer records", e.Message);
    }

    [Fact]
    public void AForgedTableWithAMatchingDigestIsStillCheckedEntryByEntry()
    {
        var (pack, _, _) = Write(0);
        var footer = PackReader.ReadFooter(pack.AsSpan(pack.Length - PackFormat.FooterSize), pack.Length, "p");
        var table = pack.AsSpan((int)footer.TableOffset, footer.TableLength).ToArray();
        BinaryPrimitives.WriteInt64BigEndian(table.AsSpan(32), footer.TableOffset); // the first chunk "after" the chunks
        var forged = footer with { TableSha256 = System.Security.Cryptography.SHA256.HashData(table) };

        var e = Assert.Throws<WsdException>(() => PackReader.ReadTable(table, forged, "p"));

        Assert.Contains("its entry 0", e.Message);
        Assert.Contains("is impossible", e.Message);
    }

    [Theory]
    [InlineData(1)] // the last byte of the footer gone
    [InlineData(100)]
    public void ATruncatedPackIsDataLoss(int missing)
    {
        var (pack, _, _) = Write(0);
        byte[] truncated = pack[..^missing];

        var e = Assert.Throws<WsdException>(() =>
            PackReader.ReadFooter(truncated.AsSpan(truncated.Length - PackFormat.FooterSize), truncated.Length, "p"));

        Assert.Equal(ErrorCode.DataLoss, e.Code);
    }

    [Fact]
    public void AnEmptyPackIsOnlyItsFooter()
    {
        using var output = new MemoryStream();
        using (var writer = new PackWriter(output))
            writer.Finish();
        byte[] pack = output.ToArray();

        Assert.Equal(PackFormat.FooterSize, pack.Length);
        Assert.Empty(Open(pack));
    }
}
