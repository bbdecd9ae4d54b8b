using Wsd.Errors;

namespace Wsd.Storage.Chunked;

/// <summary>
/// The tar stream a chunked backup stands for, read from its packs, every chunk checked against its
/// ID before a byte of it is handed on (docs/chunked-backups.md, "Restores"). The recipe is read first,
/// from the chunks the manifest names; the stream must come to exactly the manifest's length.
/// Consecutive chunks that lie back to back in one pack are fetched as one range, several ranges
/// are fetched and checked at once ahead of the reader, and a chunk stored plain is handed on from
/// the range it came in, not copied.
/// </summary>
public sealed class ChunkedRestoreStream : Stream
{
    /// <summary>A range holds at most this much, unless one chunk alone is larger.</summary>
    public const int RangeBytes = 4 << 20;

    /// <summary>Ranges fetched ahead of the reader: enough to keep a store's latency and the checks' hashing off its path, few enough to bound memory.</summary>
    public const int RangesAhead = 4;

    readonly IPackStore _store;
    readonly string _name;
    readonly long _length;
    readonly ChunkRef[] _recipe;
    readonly List<(int First, int Count)> _ranges;
    readonly Queue<Task<ReadOnlyMemory<byte>[]>> _ahead = new();
    readonly CancellationTokenSource _stop = new();
    int _nextRange;
    ReadOnlyMemory<byte>[] _chunks = [];
    int _chunk;
    ReadOnlyMemory<byte> _current;
    long _position;

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
            foreach (var chunk in Task.Run(() => FetchAsync(store, manifest.Recipe, range, name, CancellationToken.None)).GetAwaiter().GetResult())
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
            bool joins = i > first && recipe[i].Pack == recipe[i - 1].Pack
                && entry.Offset == recipe[i - 1].Entry.Offset + recipe[i - 1].Entry.StoredLength
                && bytes + entry.StoredLength <= RangeBytes;
            if (!joins && i > first)
            {
                ranges.Add((first, i - first));
                first = i;
                bytes = 0;
            }
            bytes += entry.StoredLength;
        }
        if (recipe.Count > first)
            ranges.Add((first, recipe.Count - first));
        return ranges;
    }

    // One range read, and every chunk in it checked: on a worker, so the hashing runs beside the extractor.
    static async Task<ReadOnlyMemory<byte>[]> FetchAsync(IPackStore store, IReadOnlyList<ChunkRef> recipe, (int First, int Count) range, string name,
        CancellationToken cancellationToken)
    {
        var head = recipe[range.First];
        var last = recipe[range.First + range.Count - 1].Entry;
        long length = last.Offset + last.StoredLength - head.Entry.Offset;
        byte[] bytes = await store.ReadAsync(head.Pack, head.Entry.Offset, (int)length, cancellationToken);
        string pack = $"{head.Pack} (for {name})";
        if (bytes.Length != length)
            throw new WsdException(ErrorCode.DataLoss, $"pack {pack} is damaged: it ends {length - bytes.Length} bytes before the chunks a backup names in it");
        var chunks = new ReadOnlyMemory<byte>[range.Count];
        for (int i = 0; i < range.Count; i++)
        {
            var entry = recipe[range.First + i].Entry;
            chunks[i] = PackReader.ReadChunk(entry, bytes.AsMemory((int)(entry.Offset - head.Entry.Offset), entry.StoredLength), pack);
        }
        return chunks;
    }

    public override int Read(Span<byte> destination)
    {
        while (_current.IsEmpty)
        {
            if (_chunk < _chunks.Length)
            {
                _current = _chunks[_chunk++];
                continue;
            }
            while (_ahead.Count < RangesAhead && _nextRange < _ranges.Count)
            {
                var range = _ranges[_nextRange++];
                _ahead.Enqueue(Task.Run(() => FetchAsync(_store, _recipe, range, _name, _stop.Token)));
            }
            if (_ahead.Count == 0)
                return 0;
            _chunks = _ahead.Dequeue().GetAwaiter().GetResult();
            _chunk = 0;
        }
        int n = Math.Min(destination.Length, _current.Length);
        _current.Span[..n].CopyTo(destination);
        _current = _current[n..];
        _position += n;
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // A restore that stops early (a failure, a cancel) stops the reads it started, and waits for them.
            _stop.Cancel();
            foreach (var pending in _ahead)
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
