namespace Wsd.Storage.Chunked;

/// <summary>
/// Cuts a byte stream into chunks as it is written, file-aware
/// (docs/chunked-backups.md, "Chunk boundaries"). Most bytes go through the small chunker. The writer
/// of the stream announces a large member's data with <see cref="BeginLarge"/>: it then starts a
/// chunk of its own, is cut with the large chunker, and its end ends a chunk too. A large file's
/// chunks are therefore the same whatever precedes it in the stream: a renamed or re-owned file, or
/// one after an edited neighbour, stores nothing new. Memory is one buffer of the large chunker's
/// largest chunk.
/// </summary>
public sealed class ChunkSplitter : Stream
{
    readonly ContentDefinedChunker _small, _large;
    readonly Action<ReadOnlySpan<byte>> _emit;
    readonly Action? _largeEnded;
    readonly byte[] _buffer;
    int _filled;
    long _largeLeft; // bytes of the announced large data still to come; 0 outside it
    long _position;

    /// <param name="emit">Given each chunk, in order; the span is valid only during the call.</param>
    /// <param name="largeEnded">Called once the last chunk of a large region was emitted.</param>
    public ChunkSplitter(ContentDefinedChunker small, ContentDefinedChunker large, Action<ReadOnlySpan<byte>> emit, Action? largeEnded = null)
    {
        _small = small;
        _large = large;
        _emit = emit;
        _largeEnded = largeEnded;
        _buffer = new byte[Math.Max(small.MaxBytes, large.MaxBytes)];
    }

    /// <summary>The next <paramref name="length"/> bytes are one large member's data: a chunk boundary before and after them.</summary>
    public void BeginLarge(long length)
    {
        if (_largeLeft > 0)
            throw new InvalidOperationException($"a large region is still open ({_largeLeft} bytes to come)");
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Boundary();
        _largeLeft = length;
        if (length == 0)
            _largeEnded?.Invoke(); // an empty region has ended as it began
    }

    /// <summary>A chunk boundary here: what is buffered becomes chunks now (where data the caller supplies as chunks of its own goes).</summary>
    public void Boundary()
    {
        if (_largeLeft > 0)
            throw new InvalidOperationException($"a large region is still open ({_largeLeft} bytes to come)");
        Cut(_small, final: true);
    }

    public override void Write(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int room = _buffer.Length - _filled;
            int take = (int)Math.Min(data.Length, _largeLeft > 0 ? Math.Min(room, _largeLeft) : room);
            data[..take].CopyTo(_buffer.AsSpan(_filled));
            _filled += take;
            _position += take;
            data = data[take..];
            if (_largeLeft > 0)
            {
                _largeLeft -= take;
                if (_largeLeft == 0)
                {
                    Cut(_large, final: true); // the large data ends here, and so does its last chunk
                    _largeEnded?.Invoke();
                    continue;
                }
            }
            if (_filled == _buffer.Length)
                Cut(_largeLeft > 0 ? _large : _small, final: false);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <summary>Cuts what is buffered: all of it when the stream or a region ends, else all but what the next cut may still need.</summary>
    void Cut(ContentDefinedChunker chunker, bool final)
    {
        int start = 0;
        while (_filled - start > 0 && (final || _filled - start >= chunker.MaxBytes))
        {
            int n = chunker.NextCut(_buffer.AsSpan(start, _filled - start));
            _emit(_buffer.AsSpan(start, n));
            start += n;
        }
        _buffer.AsSpan(start, _filled - start).CopyTo(_buffer);
        _filled -= start;
    }

    /// <summary>Ends the stream: what is buffered becomes its last chunks.</summary>
    public void Complete()
    {
        if (_largeLeft > 0)
            throw new InvalidOperationException($"the stream ended {_largeLeft} bytes before its large region did");
        Cut(_small, final: true);
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _position;
    public override long Position { get => _position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
