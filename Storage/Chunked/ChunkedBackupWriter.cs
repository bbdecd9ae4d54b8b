namespace Wsd.Storage.Chunked;

/// <summary>
/// Turns a tar stream, as it is written, into packs and a manifest
/// (docs/chunked-backups.md, "Storage layout (planned)"). Each chunk of the stream is looked up among
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
    readonly List<ChunkRef> _recipe = [];
    // Files-cache hits: files whose data the owner's known chunks hold, by their identity, resolved to where those chunks are.
    readonly Dictionary<Archive.FileIdentity, ChunkRef[]> _held = [];
    // What the next files cache learns: files named from the cache, and files chunked here with their place in the recipe.
    readonly List<(Archive.FileIdentity File, ChunkRef[] Chunks)> _reused = [];
    readonly List<(Archive.FileIdentity File, int First, int Count)> _chunkedFiles = [];
    (Archive.FileIdentity File, int First)? _openFile;
    OpenPack _filling;
    // The pack finished last, being named and stored on another thread while the next one fills;
    // at most one, so memory is two packs whatever the backup's size.
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

    /// <summary>The next <paramref name="length"/> bytes are one large member's data (<see cref="ChunkSplitter.BeginLarge"/>).</summary>
    public void BeginLarge(long length)
    {
        _openFile = null;
        _splitter.BeginLarge(length);
    }

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
        var recipeBytes = new byte[_recipe.Count * ChunkRef.Size];
        for (int i = 0; i < _recipe.Count; i++)
            _recipe[i].Write(recipeBytes.AsSpan(i * ChunkRef.Size));
        var recipeChunks = new List<ChunkRef>();
        var recipeSplitter = new ChunkSplitter(_options.Small, _options.Large, chunk => Store(chunk, recipeChunks));
        recipeSplitter.Write(recipeBytes);
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
        // A repeat of a chunk whose pack is not stored yet names it there, once that pack has a name.
        var pack = _filling.Entries.ContainsKey(id) ? _filling : _shipping is not null && _shipping.Entries.ContainsKey(id) ? _shipping : null;
        if (pack is not null)
        {
            Stats.ChunksReused++;
        }
        else
        {
            pack = _filling;
            var added = pack.Writer.Add(chunk, id);
            pack.Entries[id] = added;
            Stats.ChunksNew++;
            Stats.BytesSent += added.StoredLength;
        }
        pack.Unnamed.Add((recipe, recipe.Count));
        recipe.Add(new ChunkRef(default, pack.Entries[id]));
        if (_filling.Writer.Length >= _options.PackBytes)
            Ship();
    }

    // The filled pack gets its table and goes to be named and stored on another thread; the one
    // before it must be stored first, and its buffer fills next.
    void Ship()
    {
        if (_filling.Entries.Count == 0)
            return;
        var reuse = Settle();
        var pack = _filling;
        pack.Writer.Finish();
        Stats.PacksWritten++;
        Stats.BytesSent += PackFormat.EntrySize * pack.Entries.Count + PackFormat.FooterSize;
        var bytes = pack.Bytes.GetBuffer().AsMemory(0, (int)pack.Bytes.Length);
        pack.Stored = Task.Run(async () =>
        {
            var name = PackFormat.NameOf(bytes.Span);
            await _store.PutAsync(name, bytes, _cancellation);
            return name;
        });
        _shipping = pack;
        _filling = new OpenPack(_options, reuse);
    }

    // Waits for the pack in flight; once stored, its chunks are known by their place and the recipe
    // positions naming them get its name. Answers its buffer, free again.
    MemoryStream? Settle()
    {
        if (_shipping is not { } pack)
            return null;
        _shipping = null;
        var name = pack.Stored!.GetAwaiter().GetResult();
        foreach (var (id, entry) in pack.Entries)
            _known[id] = new ChunkRef(name, entry);
        foreach (var (recipe, index) in pack.Unnamed)
            recipe[index] = recipe[index] with { Pack = name };
        pack.Writer.Dispose();
        return pack.Bytes;
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

    /// <summary>A pack being filled or stored: its bytes, its chunks, and the recipe positions waiting for its name.</summary>
    sealed class OpenPack
    {
        public OpenPack(ChunkedBackupOptions options, MemoryStream? reuse)
        {
            // Room for a full pack, its last chunk and its table, so the buffer never regrows: a
            // regrowth would copy it and leave the old one for the collector.
            Bytes = reuse ?? new MemoryStream((int)options.PackBytes + options.Large.MaxBytes + (256 << 10));
            Bytes.SetLength(0);
            Writer = new PackWriter(Bytes, options.ZstdLevel);
        }

        public MemoryStream Bytes { get; }
        public PackWriter Writer { get; }
        public Dictionary<ChunkId, PackEntry> Entries { get; } = [];
        public List<(List<ChunkRef> Recipe, int Index)> Unnamed { get; } = [];
        public Task<ChunkId>? Stored { get; set; }
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

    /// <summary>16 KiB chunks for headers and small members, 1 MiB inside large ones, 8 MiB packs, no compression.</summary>
    public static ChunkedBackupOptions Default { get; } = new(
        new ContentDefinedChunker(4 << 10, 16 << 10, 64 << 10),
        new ContentDefinedChunker(256 << 10, 1 << 20, 4 << 20),
        8 << 20, ZstdLevel: 0);
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
