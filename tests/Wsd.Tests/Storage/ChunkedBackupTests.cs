using Wsd.Archive;
using Wsd.Errors;
using Wsd.Storage.Chunked;
using Wsd.Tests.Support;

namespace Wsd.Tests.Storage;

/// <summary>Chunked backups in memory (the pack store is a dictionary): what a backup stores, and that the stream comes back whole.</summary>
public class ChunkedBackupTests
{
    static readonly ChunkedBackupOptions Options = ChunkedBackupOptions.Default with { PackBytes = 1 << 20 };

    static (ChunkedManifest Manifest, ChunkedBackupStats Stats) Backup(byte[] tar, MemoryPackStore store, Dictionary<ChunkId, ChunkRef> known)
    {
        using var writer = new ChunkedBackupWriter(store, known, Options);
        for (int at = 0; at < tar.Length; at += 10_000)
            writer.Write(tar.AsSpan(at, Math.Min(10_000, tar.Length - at)));
        var manifest = writer.Complete();
        return (manifest, writer.Stats);
    }

    static byte[] Restore(MemoryPackStore store, ChunkedManifest manifest)
    {
        // Through the text form, as a restore reads it from the store.
        var parsed = ChunkedManifest.Parse(manifest.ToBytes(), "m");
        using var stream = new ChunkedRestoreStream(store, parsed, "m");
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return bytes.ToArray();
    }

    static byte[] Tar(string directory)
    {
        using var tar = new MemoryStream();
        ArchiveWriter.Write(directory, tar);
        return tar.ToArray();
    }

    static void Tree(string root, int files, int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < files; i++)
        {
            string dir = Path.Combine(root, $"d{i % 17}");
            Directory.CreateDirectory(dir);
            var content = new byte[random.Next(100, 40_000)];
            random.NextBytes(content);
            File.WriteAllBytes(Path.Combine(dir, $"f{i}.txt"), content);
            File.SetLastWriteTimeUtc(Path.Combine(dir, $"f{i}.txt"), new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        }
    }

    [Fact]
    public void ABackupRestoresBitExactAndAnUnchangedOneStoresNothingButItsManifest()
    {
        using var dir = new TempDirectory();
        Tree(dir.Path, 600, 1);
        byte[] tar = Tar(dir.Path);
        var store = new MemoryPackStore();
        var known = new Dictionary<ChunkId, ChunkRef>();

        var (first, firstStats) = Backup(tar, store, known);
        long stored = store.Bytes;
        Assert.Equal(tar, Restore(store, first));
        Assert.True(stored < tar.Length * 1.05, $"{stored} bytes stored for a {tar.Length}-byte archive");

        var (second, secondStats) = Backup(tar, store, known);

        Assert.Equal(stored, store.Bytes);
        Assert.Equal(0, secondStats.ChunksNew);
        Assert.Equal(0, secondStats.PacksWritten);
        Assert.Equal(first.Recipe, second.Recipe);
        Assert.True(second.ToBytes().Length < 4096, $"the manifest of a no-change backup is {second.ToBytes().Length} bytes");
        Assert.Equal(tar, Restore(store, second));
        Assert.True(firstStats.ChunksNew > 0 && firstStats.BytesRead == tar.Length);
    }

    [Fact]
    public void ASmallChangeStoresAboutWhatChanged()
    {
        using var dir = new TempDirectory();
        Tree(dir.Path, 600, 2);
        var store = new MemoryPackStore();
        var known = new Dictionary<ChunkId, ChunkRef>();
        Backup(Tar(dir.Path), store, known);
        long before = store.Bytes;

        // Five files edited, one added.
        foreach (int i in new[] { 3, 150, 300, 451, 599 })
            File.AppendAllText(Path.Combine(dir.Path, $"d{i % 17}", $"f{i}.txt"), "an edit\n");
        File.WriteAllBytes(Path.Combine(dir.Path, "d0", "new.bin"), SampleTree.Pattern(200_000));
        byte[] edited = Tar(dir.Path);
        var (manifest, stats) = Backup(edited, store, known);

        long added = store.Bytes - before;
        Assert.Equal(edited, Restore(store, manifest));
        // The new file, plus about one small chunk (16 KiB on average) per edit, plus the recipe's changed chunks.
        Assert.InRange(added, 200_000, 200_000 + 5 * 3 * (64 << 10) + (256 << 10));
        Assert.True(stats.ChunksReused > stats.ChunksNew);
    }

    [Fact]
    public void NewChunksAreCompressedWithinTheBudgetAndStoredPlainAfterIt()
    {
        // Text that compresses well, in about 16 KiB chunks.
        byte[] text = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 200_000).Select(i => $"line {i} of a source file\n")));
        var store = new MemoryPackStore();
        var options = Options with { ZstdLevel = -1, CompressionBudgetBytes = 1 << 20 };
        using var writer = new ChunkedBackupWriter(store, new Dictionary<ChunkId, ChunkRef>(), options);
        writer.Write(text);
        var manifest = writer.Complete();

        var recipe = ChunkedRestoreStream.ReadRecipe(store, manifest, "m");
        long compressed = recipe.Where(r => r.Entry.Compressed).Sum(r => (long)r.Entry.PlainLength);
        Assert.InRange(compressed, 1 << 20, (1 << 20) + (64 << 10)); // the budget, and the chunk that crossed it
        Assert.Contains(recipe, r => !r.Entry.Compressed);
        Assert.True(recipe.Where(r => r.Entry.Compressed).All(r => r.Entry.StoredLength < r.Entry.PlainLength / 4));
        Assert.Equal(text, Restore(store, manifest));
    }

    [Fact]
    public void AChunkDamagedInItsPackFailsTheRestoreAsDataLoss()
    {
        using var dir = new TempDirectory();
        Tree(dir.Path, 100, 3);
        var store = new MemoryPackStore();
        var (manifest, _) = Backup(Tar(dir.Path), store, []);
        var pack = store.Packs.Keys.First();
        store.Packs[pack][100] ^= 1;

        var e = Assert.Throws<WsdException>(() => Restore(store, manifest));

        Assert.Equal(ErrorCode.DataLoss, e.Code);
        Assert.Contains($"pack {pack}", e.Message);
    }

    [Fact]
    public void AManifestWhoseLengthDisagreesWithItsRecipeIsDataLoss()
    {
        var store = new MemoryPackStore();
        var (manifest, _) = Backup(SampleTree.Pattern(300_000), store, []);

        var e = Assert.Throws<WsdException>(() => new ChunkedRestoreStream(store, manifest with { StreamLength = 299_999 }, "m"));

        Assert.Equal("m is damaged: its recipe makes 300000 bytes, its manifest says 299999", e.Message);
    }

    [Fact]
    public void AnEmptyStreamIsAnEmptyRecipe()
    {
        var store = new MemoryPackStore();
        var (manifest, _) = Backup([], store, []);

        Assert.Empty(manifest.Recipe);
        Assert.Empty(Restore(store, manifest));
        Assert.Empty(store.Packs);
    }
}
