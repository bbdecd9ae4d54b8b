using Wsd.Errors;

namespace Wsd.Storage.Chunked;

/// <summary>
/// The tar stream a chunked backup stands for, read from its packs, every chunk checked against its
/// ID before a byte of it is handed on (docs/chunked-backups.md, "Storage layout"). The recipe is read first,
/// from the chunks the manifest names; the stream must come to exactly the manifest's length.
/// Consecutive chunks that lie back to back in one pack are fetched as one range, several ranges
/// are fetched and checked at once ahead of the reader, and a chunk stored plain is handed on from
/// the range it came in, not copied. Memory is <see cref="RangesAhead"/> + 1 range buffers, reused.
/// </summary>
public sealed class ChunkedRestoreStream : Stream
{
    /// <summary>
    /// A range's buffer holds at most this much, unless one chunk alone needs more: its stored bytes,
    /// and the plain bytes of its compressed chunks, decompressed beside them.
    /// </summary>
    public const int RangeBytes = 4 << 20;

    /// <summary>Ranges fetched ahead of the reader: enough to keep a store's latency and the checks' hashing off its path, few enough to bound memory.</summary>
    public const int RangesAhead = 3;

    readonly IPackStore _store;
    readonly string _name;
    readonly long _length;
    readonly ChunkRef[] _recipe;
    readonly List<(int First, int Count)> _ranges;
    readonly Queue<(Task<ReadOnlyMemory<byte>[]> Chunks, byte[] Buffer)> _ahead = new();
    readonly Stack<byte[]> _spare = new();
    readonly CancellationTokenSource _stop = new();
    byte[]? _buffer; // the range being handed on: its plain chunks are slices of it
    int _nextRange;
    ReadOnlyMemory<byte>[] _chunks = [];
    int _chunk;
    ReadOnlyMemory<byte> _current;
    long _position;
    bool _disposed;

    /// <param name="name">The backup's object, for messages.</param>
    public ChunkedRestoreStream(IPackStore store, ChunkedManifest manifest, string name)
    {
        _store = store;
        _name = name;
        _length = manifest.StreamLength;
        _recipe = ReadRecipe(store, manifest, name);
        long total = _recipe.Sum(r => (long)r.Entry.PlainLength);
        if (total != _length)
            throw new WsdException(ErrorCode.DataLoss, $"{name} is damaged: its recipe makes {total} bytes, its manifest says {_length}");
        _ranges = PlanRanges(_recipe);
    }

    /// <summary>The chunks of the stream a manifest stands for, read from the recipe chunks it names.</summary>
    public static ChunkRef[] ReadRecipe(IPackStore store, ChunkedManifest manifest, string name)
    {
        var ranges = PlanRanges(manifest.Recipe);
        using var recipe = new MemoryStream();
        foreach (var range in ranges)
        {
            var buffer = new byte[BufferLength(manifest.Recipe, range)];
            foreach (var chunk in Task.Run(() => FetchAsync(store, manifest.Recipe, range, buffer, name, CancellationToken.None)).GetAwaiter().GetResult())
                recipe.Write(chunk.Span);
        }
        return ChunkRef.ReadAll(recipe.GetBuffer().AsSpan(0, (int)recipe.Length), name);
    }

    // Runs of recipe entries that lie back to back in one pack, each run one ranged read.
    static List<(int First, int Count)> PlanRanges(IReadOnlyList<ChunkRef> recipe)
    {
        var ranges = new List<(int, int)>();
        int first = 0;
        long bytes = 0;
        for (int i = 0; i < recipe.Count; i++)
        {
            var entry = recipe[i].Entry;
            long needs = BufferBytes(entry);
            bool joins = i > first && recipe[i].Pack == recipe[i - 1].Pack
                && entry.Offset == recipe[i - 1].Entry.Offset + recipe[i - 1].Entry.StoredLength
                && bytes + needs <= RangeBytes;
            if (!joins && i > first)
            {
                ranges.Add((first, i - first));
                first = i;
                bytes = 0;
            }
            bytes += needs;
        }
        if (recipe.Count > first)
            ranges.Add((first, recipe.Count - first));
        return ranges;
    }

    static long BufferBytes(PackEntry entry) => entry.StoredLength + (entry.Compressed ? entry.PlainLength : 0);

    static int RangeLength(IReadOnlyList<ChunkRef> recipe, (int First, int Count) range)
    {
        var last = recipe[range.First + range.Count - 1].Entry;
        return (int)(last.Offset + last.StoredLength - recipe[range.First].Entry.Offset);
    }

    // The stored bytes, then room for the compressed chunks' plain bytes.
    static int BufferLength(IReadOnlyList<ChunkRef> recipe, (int First, int Count) range)
    {
        long plain = 0;
        for (int i = range.First; i < range.First + range.Count; i++)
            plain += recipe[i].Entry.Compressed ? recipe[i].Entry.PlainLength : 0;
        return (int)(RangeLength(recipe, range) + plain);
    }

    // One range read into the buffer, and every chunk in it checked: on a worker, so the hashing runs beside the extractor.
    static async Task<ReadOnlyMemory<byte>[]> FetchAsync(IPackStore store, IReadOnlyList<ChunkRef> recipe, (int First, int Count) range, byte[] buffer,
        string name, CancellationToken cancellationToken)
    {
        var head = recipe[range.First];
        int length = RangeLength(recipe, range);
        int got = await store.ReadAsync(head.Pack, head.Entry.Offset, buffer.AsMemory(0, length), cancellationToken);
        string pack = $"{head.Pack} (for {name})";
        if (got != length)
            throw new WsdException(ErrorCode.DataLoss, $"pack {pack} is damaged: it ends {length - got} bytes before the chunks a backup names in it");
        var chunks = new ReadOnlyMemory<byte>[range.Count];
        var plain = buffer.AsMemory(length);
        for (int i = 0; i < range.Count; i++)
        {
            var entry = recipe[range.First + i].Entry;
            chunks[i] = PackReader.ReadChunk(entry, buffer.AsMemory((int)(entry.Offset - head.Entry.Offset), entry.StoredLength), pack, plain);
            if (entry.Compressed)
                plain = plain[entry.PlainLength..];
        }
        return chunks;
    }

    // A buffer for a range: a spare one when it is large enough (they all are, but for a range of one outsized chunk).
    byte[] BufferFor(int length)
    {
        if (_spare.TryPop(out var spare) && spare.Length >= length)
            return spare;
        return new byte[Math.Max(length, RangeBytes)];
    }

    // As much as the range at hand holds: a source tree's chunks are a few KiB each, and a call
    // per chunk would cost more than the copy. The next range is waited for only when nothing was copied yet.
    public override int Read(Span<byte> destination)
    {
        int n = 0;
        while (n < destination.Length)
        {
            if (_current.IsEmpty)
            {
                if (_chunk < _chunks.Length)
                    _current = _chunks[_chunk++];
                else if (n > 0 || !NextRange())
                    break;
                continue;
            }
            int take = Math.Min(destination.Length - n, _current.Length);
            _current.Span[..take].CopyTo(destination[n..]);
            _current = _current[take..];
            n += take;
        }
        _position += n;
        return n;
    }

    // Every chunk of the last range was handed on: its buffer is free for a range fetched ahead. False at the end.
    bool NextRange()
    {
        if (_buffer is not null)
            _spare.Push(_buffer);
        _buffer = null;
        while (_ahead.Count < RangesAhead && _nextRange < _ranges.Count)
        {
            var range = _ranges[_nextRange++];
            var buffer = BufferFor(BufferLength(_recipe, range));
            _ahead.Enqueue((Task.Run(() => FetchAsync(_store, _recipe, range, buffer, _name, _stop.Token)), buffer));
        }
        if (_ahead.Count == 0)
            return false;
        Errors.CrashPoints.Pass(Errors.CrashPoints.ChunkedRestoreRange);
        var (next, nextBuffer) = _ahead.Dequeue();
        _chunks = next.GetAwaiter().GetResult();
        _buffer = nextBuffer;
        _chunk = 0;
        return true;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            // A restore that stops early (a failure, a cancel) stops the reads it started, and waits for them.
            _stop.Cancel();
            foreach (var (pending, _) in _ahead)
            {
                try
                {
                    pending.Wait();
                }
                catch (AggregateException)
                {
                    // Nothing reads them any more.
                }
            }
            _ahead.Clear();
            _stop.Dispose();
            LargeBufferRelease.Shared.Dropped(); // the range buffers and the recipe
        }
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
