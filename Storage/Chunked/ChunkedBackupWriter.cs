namespace Wsd.Storage.Chunked;

/// <summary>
/// Turns a tar stream, as it is written, into packs and a manifest
/// (docs/chunked-backups.md, "Storage layout"). Each chunk of the stream is looked up among
/// the owner's known chunks. One already stored is only named in the recipe; a new one goes into the
/// pack being filled, which is stored once it reaches its target size. At <see cref="Complete"/> the
/// recipe itself is chunked and stored the same way, so an unchanged recipe stores nothing either,
/// and the manifest naming it is the result. Nothing refers to a pack before the pack is stored.
/// </summary>
public sealed class ChunkedBackupWriter : Stream, Archive.ILargeMemberTarget
{
    readonly IPackStore _store;
    readonly IDictionary<ChunkId, ChunkRef> _known;
    readonly ChunkedBackupOptions _options;
    readonly ChunkSplitter _splitter;
    readonly CancellationToken _cancellation;
    // Plain bytes that may still be compressed; only the thread storing packs, one pack at a time, spends it.
    long _compressionBudget;
    readonly List<ChunkRef> _recipe = [];
    // Files-cache hits: files whose data the owner's known chunks hold, by their identity, resolved to where those chunks are.
    readonly Dictionary<Archive.FileIdentity, ChunkRef[]> _held = [];
    // What the next files cache learns: files named from the cache, and files chunked here with their place in the recipe.
    readonly List<(Archive.FileIdentity File, ChunkRef[] Chunks)> _reused = [];
    readonly List<(Archive.FileIdentity File, int First, int Count)> _chunkedFiles = [];
    (Archive.FileIdentity File, int First)? _openFile;
    OpenPack _filling;
    // The pack finished last, being named and stored on another thread while the next one fills;
    // at most one, so memory is three pack buffers (two plain, one compressed) whatever the backup's size.
    OpenPack? _shipping;

    /// <param name="known">The owner's stored chunks; new ones are added as their packs are stored.</param>
    /// <param name="filesCache">
    /// The workspace's files cache from its last backup: a file it names whose chunks are all among
    /// <paramref name="known"/> is not read again. A chunk it names that is not known may be gone
    /// (its backup replaced, its pack collected), so such a file is read.
    /// </param>
    public ChunkedBackupWriter(IPackStore store, IDictionary<ChunkId, ChunkRef> known, ChunkedBackupOptions options, FilesCache? filesCache = null,
        CancellationToken cancellationToken = default)
    {
        _cancellation = cancellationToken;
        _compressionBudget = options.CompressionBudgetBytes;
        _store = store;
        _known = known;
        _options = options;
        _filling = new OpenPack(options, null);
        _splitter = new ChunkSplitter(options.Small, options.Large, chunk => Store(chunk, _recipe), FileEnded);
        foreach (var (file, chunks) in (filesCache ?? FilesCache.Empty).Files)
        {
            var resolved = new ChunkRef[chunks.Length];
            bool all = true;
            for (int i = 0; i < chunks.Length && all; i++)
                all = known.TryGetValue(chunks[i].Entry.Id, out resolved[i]);
            if (all)
                _held[file] = resolved;
        }
    }

    public ChunkedBackupStats Stats { get; } = new();

    public long LargeMemberBytes => _options.LargeMemberBytes;

    // Asked on the archive's walking thread: _held is only read after the constructor.
    public bool Holds(in Archive.FileIdentity file) => _held.ContainsKey(file);

    public void BeginLarge(in Archive.FileIdentity file, long length, bool held)
    {
        if (!held)
        {
            _splitter.Boundary(); // the chunks before the file are in the recipe: its own start here
            _openFile = (file, _recipe.Count);
            _splitter.BeginLarge(length);
            return;
        }
        // The file's chunks, as they were cut when it was last read: a boundary before them, as there was then.
        _splitter.Boundary();
        var chunks = _held[file];
        _recipe.AddRange(chunks);
        _reused.Add((file, chunks));
        Stats.ChunksReused += chunks.Length;
        Stats.BytesRead += length;
        Stats.BytesUnread += length;
    }

    void FileEnded()
    {
        if (_openFile is { } open)
            _chunkedFiles.Add((open.File, open.First, _recipe.Count - open.First));
        _openFile = null;
    }

    /// <summary>
    /// The files cache for the next backup, after <see cref="Complete"/>: every large file of this
    /// one and its chunks, as far as <see cref="FilesCache.Of"/> trusts them.
    /// </summary>
    public FilesCache FilesSeen(long backupStartedNanoseconds) =>
        FilesCache.Of(_reused.Concat(_chunkedFiles.Select(f => (f.File, _recipe.GetRange(f.First, f.Count).ToArray()))), backupStartedNanoseconds);

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
        Ship();
        Settle(); // every entry of the stream's recipe has its pack's name from here on
        // The recipe is chunked as it is encoded, a few hundred entries at a time, never whole in memory.
        var recipeChunks = new List<ChunkRef>();
        var recipeSplitter = new ChunkSplitter(_options.Recipe, _options.Large, chunk => Store(chunk, recipeChunks));
        var encoded = new byte[512 * ChunkRef.Size];
        for (int first = 0; first < _recipe.Count; first += 512)
        {
            int count = Math.Min(512, _recipe.Count - first);
            for (int i = 0; i < count; i++)
                _recipe[first + i].Write(encoded.AsSpan(i * ChunkRef.Size));
            recipeSplitter.Write(encoded.AsSpan(0, count * ChunkRef.Size));
        }
        recipeSplitter.Complete();
        Ship();
        Settle();
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
        // A repeat of a chunk whose pack is not stored yet names it there, once that pack is stored.
        var pack = _filling.Entries.ContainsKey(id) ? _filling : _shipping is not null && _shipping.Entries.ContainsKey(id) ? _shipping : null;
        if (pack is not null)
        {
            Stats.ChunksReused++;
        }
        else
        {
            // A pack holds at most PackBytes of chunks and MaxPackEntries of them, so its buffer never regrows.
            if (_filling.Writer.Length + chunk.Length > _options.PackBytes || _filling.Entries.Count == MaxPackEntries)
                Ship();
            pack = _filling;
            pack.Entries[id] = pack.Writer.Add(chunk, id);
            Stats.ChunksNew++;
        }
        // Where the chunk will be is known once its pack is stored (compressed, named); until then the recipe holds its ID.
        pack.Unnamed.Add((recipe, recipe.Count));
        recipe.Add(new ChunkRef(default, new PackEntry(id, 0, 0, 0, false)));
    }

    /// <summary>Chunks in one pack at most: its table stays within the room its buffer keeps for it.</summary>
    public const int MaxPackEntries = 4096;

    // The filled pack gets its table and goes to be compressed, named and stored on another thread,
    // beside the chunking of the next; the one before it must be stored first, and its buffers are reused.
    void Ship()
    {
        if (_filling.Entries.Count == 0)
            return;
        var (plainBuffer, packedBuffer) = Settle();
        var pack = _filling;
        pack.Writer.Finish();
        var plain = pack.Bytes.GetBuffer().AsMemory(0, (int)pack.Bytes.Length);
        pack.Packed = _options.ZstdLevel == 0 ? null : packedBuffer ?? OpenPack.NewBuffer(_options);
        pack.Stored = Task.Run(async () =>
        {
            var (bytes, entries) = pack.Packed is null ? (plain, pack.Entries) : Compress(plain, pack, pack.Packed);
            var name = PackFormat.NameOf(bytes.Span);
            await _store.PutAsync(name, bytes, _cancellation);
            return new StoredPack(name, entries, bytes.Length);
        });
        _shipping = pack;
        _filling = new OpenPack(_options, plainBuffer);
    }

    // The pack again with each chunk compressed where that pays, into a buffer of its own.
    (ReadOnlyMemory<byte> Bytes, Dictionary<ChunkId, PackEntry> Entries) Compress(ReadOnlyMemory<byte> plain, OpenPack pack, MemoryStream output)
    {
        output.SetLength(0);
        var entries = new Dictionary<ChunkId, PackEntry>(pack.Entries.Count);
        using (var writer = new PackWriter(output, _options.ZstdLevel))
        {
            foreach (var entry in pack.Writer.Entries)
            {
                // Within the budget only: see ChunkedBackupOptions.CompressionBudgetBytes.
                bool compress = _compressionBudget > 0;
                _compressionBudget -= compress ? entry.PlainLength : 0;
                entries[entry.Id] = writer.Add(plain.Span.Slice((int)entry.Offset, entry.PlainLength), entry.Id, compress);
            }
            writer.Finish();
        }
        return (output.GetBuffer().AsMemory(0, (int)output.Length), entries);
    }

    // Waits for the pack in flight; once stored, its chunks are known by their place and the recipe
    // positions naming them get it. Answers its buffers, free again.
    (MemoryStream? Plain, MemoryStream? Packed) Settle()
    {
        if (_shipping is not { } pack)
            return (null, null);
        _shipping = null;
        var stored = pack.Stored!.GetAwaiter().GetResult();
        foreach (var (id, entry) in stored.Entries)
            _known[id] = new ChunkRef(stored.Name, entry);
        foreach (var (recipe, index) in pack.Unnamed)
            recipe[index] = new ChunkRef(stored.Name, stored.Entries[recipe[index].Entry.Id]);
        Stats.PacksWritten++;
        Stats.BytesSent += stored.Bytes;
        Errors.CrashPoints.Pass(Errors.CrashPoints.ChunkedPackStored);
        pack.Writer.Dispose();
        return (pack.Bytes, pack.Packed);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // A backup abandoned midway still waits for the pack it handed out: the buffer is in use until then.
            try
            {
                _shipping?.Stored?.Wait();
            }
            catch (AggregateException)
            {
                // The failure was the backup's to report; the pack is unreferenced and garbage collection's.
            }
            _shipping?.Writer.Dispose();
            _filling.Writer.Dispose();
            LargeBufferRelease.Shared.Dropped(); // two packs' buffers, the recipe and the index of known chunks
        }
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

    /// <summary>A pack as stored: its name, where each of its chunks lies, and its size.</summary>
    sealed record StoredPack(ChunkId Name, Dictionary<ChunkId, PackEntry> Entries, long Bytes);

    /// <summary>
    /// A pack being filled or stored: its chunks as they came (plain), their entries, the recipe
    /// positions waiting for its place, and the buffer it is compressed into.
    /// </summary>
    sealed class OpenPack
    {
        public OpenPack(ChunkedBackupOptions options, MemoryStream? reuse)
        {
            Bytes = reuse ?? NewBuffer(options);
            Bytes.SetLength(0);
            Writer = new PackWriter(Bytes);
        }

        // Room for a full pack and its largest table, so a buffer never regrows: a regrowth would
        // copy it and leave the old one for the collector.
        public static MemoryStream NewBuffer(ChunkedBackupOptions options) =>
            new((int)options.PackBytes + MaxPackEntries * PackFormat.EntrySize + PackFormat.FooterSize);

        public MemoryStream Bytes { get; }
        public PackWriter Writer { get; }
        public Dictionary<ChunkId, PackEntry> Entries { get; } = [];
        public List<(List<ChunkRef> Recipe, int Index)> Unnamed { get; } = [];
        public MemoryStream? Packed { get; set; }
        public Task<StoredPack>? Stored { get; set; }
    }
}

/// <summary>How a chunked backup cuts and packs (docs/chunked-backups.md, "Chunk boundaries").</summary>
public sealed record ChunkedBackupOptions(ContentDefinedChunker Small, ContentDefinedChunker Large, long PackBytes, int ZstdLevel)
{
    /// <summary>
    /// Members with this much data or more are cut on their own with the large chunker, and
    /// remembered in the files cache: nearly every file of a source tree, so that a backup with
    /// little changed reads little more than the tree's metadata.
    /// </summary>
    public long LargeMemberBytes { get; init; } = 4 << 10;

    /// <summary>
    /// How the recipe is cut: finer than the stream's small chunks, because an edit anywhere in the
    /// workspace changes one 88-byte entry, and stores again the recipe chunk around it.
    /// </summary>
    public ContentDefinedChunker Recipe { get; init; } = new(2 << 10, 8 << 10, 32 << 10);

    /// <summary>
    /// With a zstd level, how many bytes of new chunks one backup compresses; those after it are
    /// stored plain. The managed zstd compresses text at a few hundred MB/s, slower than the rest of a
    /// backup: the budget keeps a first backup of a large workspace about as fast as a tar, while
    /// the backups after it, which store only what changed, are compressed whole
    /// (docs/chunked-backups.md, "Compression").
    /// </summary>
    public long CompressionBudgetBytes { get; init; } = 64L << 20;

    /// <summary>16 KiB chunks for headers and small members, 1 MiB inside files, 8 MiB packs, zstd -1 within the budget (content.backup.chunkCompression).</summary>
    public static ChunkedBackupOptions Default { get; } = new(
        new ContentDefinedChunker(4 << 10, 16 << 10, 64 << 10),
        new ContentDefinedChunker(256 << 10, 1 << 20, 4 << 20),
        8 << 20, ZstdLevel: -1);
}

/// <summary>What one chunked backup did: the figures its metrics report.</summary>
public sealed class ChunkedBackupStats
{
    /// <summary>Bytes of the tar stream, <see cref="BytesUnread"/> included.</summary>
    public long BytesRead { get; set; }
    /// <summary>Bytes of files the files cache named, not read.</summary>
    public long BytesUnread { get; set; }
    public long BytesSent { get; set; }
    public long ChunksNew { get; set; }
    public long ChunksReused { get; set; }
    public long PacksWritten { get; set; }
}
