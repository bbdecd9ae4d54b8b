using Wsd.Storage.Chunked;

namespace Wsd.Tests.Storage;

public class ChunkSplitterTests
{
    static readonly ContentDefinedChunker Small = new(2 << 10, 8 << 10, 32 << 10);
    static readonly ContentDefinedChunker Large = new(64 << 10, 256 << 10, 1 << 20);

    static byte[] Noise(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    // The stream as a writer would produce it: small stretches, and large members announced first.
    static List<byte[]> Split(params (byte[] Bytes, bool Large)[] parts)
    {
        var chunks = new List<byte[]>();
        using var splitter = new ChunkSplitter(Small, Large, chunk => chunks.Add(chunk.ToArray()));
        foreach (var (bytes, large) in parts)
        {
            if (large)
                splitter.BeginLarge(bytes.Length);
            // Odd write sizes, as a tar writer's are.
            for (int at = 0; at < bytes.Length; at += 7919)
                splitter.Write(bytes.AsSpan(at, Math.Min(7919, bytes.Length - at)));
        }
        splitter.Complete();
        return chunks;
    }

    static HashSet<string> Ids(List<byte[]> chunks) => chunks.Select(c => ChunkId.Of(c).ToString()).ToHashSet();

    [Fact]
    public void TheChunksAreTheStreamAndALargeMemberIsCutOnItsOwn()
    {
        byte[] before = Noise(100_000, 1), file = Noise(3 << 20, 2), after = Noise(50_000, 3);

        var chunks = Split((before, false), (file, true), (after, false));

        Assert.Equal([.. before, .. file, .. after], chunks.SelectMany(c => c).ToArray());
        // A boundary exactly where the file's data starts and where it ends.
        var ends = new List<long>();
        long at = 0;
        foreach (var c in chunks)
            ends.Add(at += c.Length);
        Assert.Contains(before.Length, ends);
        Assert.Contains(before.Length + file.Length, ends);
        var inside = chunks.Where((c, i) => ends[i] > before.Length && ends[i] <= before.Length + file.Length).ToList();
        Assert.All(inside.SkipLast(1), c => Assert.InRange(c.Length, Large.MinBytes + 1, Large.MaxBytes));
        Assert.All(chunks.Except(inside), c => Assert.True(c.Length <= Small.MaxBytes));
    }

    [Fact]
    public void ALargeFileStoresNothingNewWhateverComesBeforeIt()
    {
        byte[] file = Noise(3 << 20, 2);

        var first = Ids(Split((Noise(100_000, 1), false), (file, true)));
        var moved = Ids(Split((Noise(12_345, 9), false), (Noise(777, 10), false), (file, true), (Noise(5_000, 11), false)));

        var fileChunks = Ids(Split((file, true)));
        Assert.Subset(first, fileChunks);
        Assert.Subset(moved, fileChunks);
    }

    [Fact]
    public void AnEditBetweenSmallMembersChangesOnlyTheChunksNearIt()
    {
        byte[] tree = Noise(1 << 20, 4);
        byte[] edited = (byte[])tree.Clone();
        edited[500_000] ^= 1;

        var before = Ids(Split((tree, false)));
        var after = Ids(Split((edited, false)));

        Assert.InRange(after.Count(id => !before.Contains(id)), 1, 2);
    }

    [Fact]
    public void AnEmptyStreamIsNoChunksAndAnEmptyLargeMemberIsABoundaryOnly()
    {
        Assert.Empty(Split());
        var chunks = Split((Noise(10_000, 5), false), ([], true), (Noise(10_000, 6), false));
        Assert.Equal(20_000, chunks.Sum(c => c.Length));
        Assert.Equal(10_000, chunks[0].Length); // cut where the empty member was announced
    }

    [Fact]
    public void EndingInsideALargeMemberIsRefused()
    {
        using var splitter = new ChunkSplitter(Small, Large, _ => { });
        splitter.BeginLarge(100);
        splitter.Write(new byte[50]);

        Assert.Throws<InvalidOperationException>(splitter.Complete);
    }
}
