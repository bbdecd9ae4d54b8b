using System.Security.Cryptography;
using Wsd.Storage.Chunked;

namespace Wsd.Tests.Storage;

public class ContentDefinedChunkerTests
{
    static readonly ContentDefinedChunker Chunker = new(minBytes: 2 << 10, averageBytes: 8 << 10, maxBytes: 64 << 10);

    // Our own generator, not System.Random: the pinned boundaries must not move with the runtime.
    static byte[] Noise(int length, ulong seed)
    {
        var data = new byte[length];
        ulong x = seed | 1;
        for (int i = 0; i < length; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            data[i] = (byte)(x >> 24);
        }
        return data;
    }

    static List<int> Cuts(ReadOnlySpan<byte> data)
    {
        var lengths = new List<int>();
        while (!data.IsEmpty)
        {
            int n = Chunker.NextCut(data);
            lengths.Add(n);
            data = data[n..];
        }
        return lengths;
    }

    static HashSet<string> ChunkDigests(byte[] data)
    {
        var digests = new HashSet<string>();
        int at = 0;
        foreach (int n in Cuts(data))
        {
            digests.Add(Convert.ToHexString(SHA256.HashData(data.AsSpan(at, n))));
            at += n;
        }
        return digests;
    }

    [Fact]
    public void TheBoundariesArePinnedSoThatStoredChunksStayReusableAcrossVersions()
    {
        // Recorded once; a change here means every chunk already stored looks new to the next backup.
        Assert.Equal([11244, 8608, 9763, 8486, 10915, 8948, 8338, 10775], Cuts(Noise(1 << 20, 42)).Take(8));
    }

    [Fact]
    public void ChunksStayWithinTheirBoundsAndAverageNearTheTarget()
    {
        var cuts = Cuts(Noise(16 << 20, 7));

        Assert.All(cuts.SkipLast(1), n => Assert.InRange(n, Chunker.MinBytes + 1, Chunker.MaxBytes));
        Assert.Equal(16 << 20, cuts.Sum());
        double average = cuts.Average();
        Assert.InRange(average, (8 << 10) * 0.7, (8 << 10) * 1.5);
    }

    [Theory]
    [InlineData(100, 0)] // an insertion
    [InlineData(0, 100)] // a deletion
    [InlineData(5000, 5000)] // a replaced stretch
    public void AnEditChangesOnlyTheChunksAroundIt(int inserted, int deleted)
    {
        byte[] original = Noise(4 << 20, 11);
        int at = 2 << 20;
        byte[] edited = [.. original.AsSpan(0, at), .. Noise(inserted, 99), .. original.AsSpan(at + deleted)];

        var before = ChunkDigests(original);
        var after = ChunkDigests(edited);

        int changed = after.Count(d => !before.Contains(d));
        Assert.InRange(changed, 1, 3);
        Assert.True(before.Count - before.Count(after.Contains) <= 3, "chunks far from the edit were lost");
    }

    [Fact]
    public void ShortDataIsOneChunkAndUniformDataIsCutAtTheMaximum()
    {
        Assert.Equal(100, Chunker.NextCut(new byte[100]));
        Assert.Equal(Chunker.MinBytes, Chunker.NextCut(new byte[Chunker.MinBytes]));
        Assert.Equal(Chunker.MaxBytes, Chunker.NextCut(new byte[Chunker.MaxBytes * 2]));
        Assert.Equal(0, Chunker.NextCut([]));
    }

    [Theory]
    [InlineData(2048, 6000, 65536)] // not a power of two
    [InlineData(8192, 8192, 65536)] // min not below the average
    [InlineData(2048, 8192, 8192)] // max not above it
    [InlineData(32, 8192, 65536)] // min too small for the hash to have seen anything
    public void NonsenseSizesAreRefused(int min, int average, int max) =>
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => new ContentDefinedChunker(min, average, max));
}
