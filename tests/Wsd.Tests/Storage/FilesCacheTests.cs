using Wsd.Archive;
using Wsd.Storage.Chunked;
using Wsd.Tests.Support;

namespace Wsd.Tests.Storage;

/// <summary>
/// The files cache (docs/chunked-backups.md, "Files cache"): through the real archive writer into a
/// chunked backup in memory, what it spares reading, when it must not, and that a damaged cache is none.
/// </summary>
public class FilesCacheTests
{
    static readonly ChunkedBackupOptions Options = ChunkedBackupOptions.Default with { PackBytes = 1 << 20, LargeMemberBytes = 256 << 10 };

    // Files are trusted only when changed at least a second before the backup started: these backups "start" a minute from now.
    static long Later => (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100 + 60_000_000_000;

    static byte[] Noise(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    static void Tree(string root)
    {
        File.WriteAllBytes(Path.Combine(root, "large-a.bin"), Noise(3 << 20, 1));
        File.WriteAllBytes(Path.Combine(root, "large-b.bin"), Noise((1 << 20) + 7, 9));
        for (int i = 0; i < 20; i++)
            File.WriteAllText(Path.Combine(root, $"small{i}.txt"), new string('s', i * 50));
    }

    sealed record Run(ChunkedManifest Manifest, ChunkedBackupStats Stats, FilesCache Seen, byte[] Tar);

    static Run Backup(string root, MemoryPackStore store, Dictionary<ChunkId, ChunkRef> known, FilesCache? cache, long started)
    {
        using var writer = new ChunkedBackupWriter(store, known, Options, cache);
        ArchiveWriter.Write(root, writer);
        var manifest = writer.Complete();
        using var plain = new MemoryStream();
        ArchiveWriter.Write(root, plain);
        return new Run(manifest, writer.Stats, writer.FilesSeen(started), plain.ToArray());
    }

    static byte[] Restore(MemoryPackStore store, ChunkedManifest manifest)
    {
        using var stream = new ChunkedRestoreStream(store, manifest, "m");
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return bytes.ToArray();
    }

    [Fact]
    public void UnchangedLargeFilesAreNamedUnreadAndTheStreamIsTheSame()
    {
        using var dir = new TempDirectory();
        Tree(dir.Path);
        var store = new MemoryPackStore();
        var known = new Dictionary<ChunkId, ChunkRef>();
        var first = Backup(dir.Path, store, known, null, Later);
        Assert.Equal(2, first.Seen.Count);
        Assert.Equal(0, first.Stats.BytesUnread);

        var second = Backup(dir.Path, store, known, FilesCache.Parse(first.Seen.ToBytes(), out _), Later);

        Assert.Equal((3 << 20) + (1 << 20) + 7, second.Stats.BytesUnread);
        Assert.Equal(0, second.Stats.ChunksNew);
        Assert.Equal(first.Tar, Restore(store, second.Manifest));
        Assert.Equal(first.Manifest.ToBytes(), second.Manifest.ToBytes()); // the same chunks in the same order
        Assert.Equal(2, second.Seen.Count);
    }

    [Fact]
    public void AFileRewrittenWithItsSizeAndMtimeKeptIsReadAgain()
    {
        using var dir = new TempDirectory();
        Tree(dir.Path);
        string large = Path.Combine(dir.Path, "large-a.bin");
        var store = new MemoryPackStore();
        var known = new Dictionary<ChunkId, ChunkRef>();
        var first = Backup(dir.Path, store, known, null, Later);

        // What a user who wants the old chunks reused would do: same size, mtime set back. The ctime still moves.
        var mtime = File.GetLastWriteTimeUtc(large);
        byte[] edited = Noise(3 << 20, 5);
        using (var handle = File.OpenHandle(large, FileMode.Open, FileAccess.Write))
            RandomAccess.Write(handle, edited, 0);
        File.SetLastWriteTimeUtc(large, mtime);
        var second = Backup(dir.Path, store, known, first.Seen, Later);

        Assert.Equal((1 << 20) + 7, second.Stats.BytesUnread); // only large-b
        Assert.Equal(second.Tar, Restore(store, second.Manifest));
        Assert.NotEqual(first.Tar, second.Tar);
    }

    [Fact]
    public void AFileChangedWithinASecondOfTheBackupIsNotRemembered()
    {
        using var dir = new TempDirectory();
        Tree(dir.Path);
        long now = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;

        var run = Backup(dir.Path, new MemoryPackStore(), [], null, started: now);

        Assert.Equal(0, run.Seen.Count);
    }

    [Fact]
    public void ACacheNamingChunksTheOwnerNoLongerHasIsNotUsed()
    {
        using var dir = new TempDirectory();
        Tree(dir.Path);
        var first = Backup(dir.Path, new MemoryPackStore(), [], null, Later);

        // Another store, with nothing known: the cache's chunks may be gone, so every file is read.
        var store = new MemoryPackStore();
        var second = Backup(dir.Path, store, [], first.Seen, Later);

        Assert.Equal(0, second.Stats.BytesUnread);
        Assert.Equal(first.Tar, Restore(store, second.Manifest));
    }

    [Fact]
    public void ACacheThatIsTornDamagedOrInconsistentIsNone()
    {
        using var dir = new TempDirectory();
        Tree(dir.Path);
        var seen = Backup(dir.Path, new MemoryPackStore(), [], null, Later).Seen;
        byte[] bytes = seen.ToBytes();
        Assert.NotNull(FilesCache.Parse(bytes, out _));
        // Sound bytes, but an entry whose chunks do not make its file's size.
        var (file, chunks) = seen.Files.First();
        Assert.Null(FilesCache.Parse(FilesCache.Of([(file with { Size = file.Size + 1 }, chunks)], Later).ToBytes(), out string? inconsistent));
        Assert.Contains("does not add up", inconsistent);

        Assert.Null(FilesCache.Parse(bytes[..^1], out string? torn));
        Assert.Contains("checksum", torn);
        var flipped = (byte[])bytes.Clone();
        flipped[40] ^= 1;
        Assert.Null(FilesCache.Parse(flipped, out _));
        Assert.Null(FilesCache.Parse("not a cache"u8, out string? other));
        Assert.Contains("not a files cache", other);
    }
}
