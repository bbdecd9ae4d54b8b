namespace Wsd.Storage.Chunked;

/// <summary>
/// Turns a tar stream, as it is written, into packs and a manifest
/// (docs/chunked-backups.md, "Storage layout (planned)"). Each chunk of the stream is looked up among
/// the owner's known chunks. One already stored is only named in the recipe; a new one goes into the
/// pack being filled, which is stored once it reaches its target size. At <see cref="Complete"/> the
/// recipe itself is chunked and stored the same way, so an unchanged recipe stores nothing either,
/// and the manifest naming it is the result. Nothing refers to a pack before the pack is stored.
/// </summary>
public sealed class ChunkedBackupWriter : Stream
{
    readonly IPackStore _store;
    readonly IDictionary<ChunkId, ChunkRef> _known;
    readonly ChunkedBackupOptions _options;
    readonly ChunkSplitter _splitter;
    readonly List<ChunkRef> _recipe = [];
    // Recipe positions naming a chunk of the pack being filled, whose name is known only when it is finished.
    readonly List<(List<ChunkRef> Recipe, int Index)> _unnamed = [];
    readonly Dictionary<ChunkId, PackEntry> _filling = [];
    MemoryStream _packBytes = new();
    PackWriter _pack;

    /// <param name="known">The owner's stored chunks; new ones are added as their packs are stored.</param>
    public ChunkedBackupWriter(IPackStore store, IDictionary<ChunkId, ChunkRef> known, ChunkedBackupOptions options)
    {
        _store = store;
        _known = known;
        _options = options;
        _pack = new PackWriter(_packBytes, options.ZstdLevel);
        _splitter = new ChunkSplitter(options.Small, options.Large, chunk => Store(chunk, _recipe));
    }

    public ChunkedBackupStats Stats { get; } = new();

    /// <summary>The next <paramref name="length"/> bytes are one large member's data (<see cref="ChunkSplitter.BeginLarge"/>).</summary>
    public void BeginLarge(long length) => _splitter.BeginLarge(length);

    public override void Write(ReadOnlySpan<byte> data)
    {
        _splitter.Write(data);
        Stats.BytesRead += data.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <summary>Stores what is left and the recipe; answers the manifest, to be written under the backup's name.</summary>
    public ChunkedManifest Complete()
    {
        _splitter.Complete();
        var recipeBytes = new byte[_recipe.Count * ChunkRef.Size];
        FinishPack(); // every entry of the stream's recipe has its pack's name from here on
        for (int i = 0; i < _recipe.Count; i++)
            _recipe[i].Write(recipeBytes.AsSpan(i * ChunkRef.Size));
        var recipeChunks = new List<ChunkRef>();
        var recipeSplitter = new ChunkSplitter(_options.Small, _options.Large, chunk => Store(chunk, recipeChunks));
        recipeSplitter.Write(recipeBytes);
        recipeSplitter.Complete();
        FinishPack();
        return new ChunkedManifest(Stats.BytesRead, recipeChunks);
    }

    void Store(ReadOnlySpan<byte> chunk, List<ChunkRef> recipe)
    {
        var id = ChunkId.Of(chunk);
        if (_known.TryGetValue(id, out var stored))
        {
            recipe.Add(stored);
            Stats.ChunksReused++;
            return;
        }
        if (!_filling.TryGetValue(id, out var entry))
        {
            entry = _pack.Add(chunk, id);
            _filling[id] = entry;
            Stats.ChunksNew++;
            Stats.BytesSent += entry.StoredLength;
        }
        else
        {
            Stats.ChunksReused++;
        }
        _unnamed.Add((recipe, recipe.Count));
        recipe.Add(new ChunkRef(default, entry));
        if (_pack.Length >= _options.PackBytes)
            FinishPack();
    }

    void FinishPack()
    {
        if (_filling.Count == 0)
            return;
        var name = _pack.Finish();
        _store.Put(name, _packBytes.GetBuffer().AsMemory(0, (int)_packBytes.Length)); // the store keeps it: the next pack gets a buffer of its own
        Stats.PacksWritten++;
        Stats.BytesSent += PackFormat.EntrySize * _filling.Count + PackFormat.FooterSize;
        foreach (var (id, entry) in _filling)
            _known[id] = new ChunkRef(name, entry);
        foreach (var (recipe, index) in _unnamed)
            recipe[index] = recipe[index] with { Pack = name };
        _unnamed.Clear();
        _filling.Clear();
        _pack.Dispose();
        _packBytes = new MemoryStream();
        _pack = new PackWriter(_packBytes, _options.ZstdLevel);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _pack.Dispose();
        base.Dispose(disposing);
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => Stats.BytesRead;
    public override long Position { get => Stats.BytesRead; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>How a chunked backup cuts and packs (docs/chunked-backups.md, "Chunk boundaries").</summary>
public sealed record ChunkedBackupOptions(ContentDefinedChunker Small, ContentDefinedChunker Large, long PackBytes, int ZstdLevel)
{
    /// <summary>16 KiB chunks for headers and small members, 1 MiB inside large ones, 16 MiB packs, no compression.</summary>
    public static ChunkedBackupOptions Default { get; } = new(
        new ContentDefinedChunker(4 << 10, 16 << 10, 64 << 10),
        new ContentDefinedChunker(256 << 10, 1 << 20, 4 << 20),
        16 << 20, ZstdLevel: 0);
}

/// <summary>What one chunked backup did: the figures its metrics report.</summary>
public sealed class ChunkedBackupStats
{
    public long BytesRead { get; set; }
    public long BytesSent { get; set; }
    public long ChunksNew { get; set; }
    public long ChunksReused { get; set; }
    public long PacksWritten { get; set; }
}
