using Wsd.Interop;

namespace Wsd.Archive;

/// <summary>
/// The archive's input: a reader thread fills 1 MiB chunks from the source stream (so reading,
/// hashing and decompressing run beside extraction) and the extractor consumes them in place.
/// Chunks are filled completely until the end of the stream, so every tar block lies inside one
/// chunk. Memory is fixed at <see cref="ChunkCount"/> × <see cref="ChunkSize"/>.
/// </summary>
public sealed unsafe class TarInput : IDisposable
{
    public const int ChunkSize = 1 << 20;
    public const int ChunkCount = 4;

    readonly Stream _source;
    readonly HandOff<(nint Buffer, int Length)> _full = new(ChunkCount);
    readonly HandOff<nint> _free = new(ChunkCount);
    readonly PinnedChunks _chunks = new(ChunkCount, ChunkSize);
    readonly Thread _reader;
    volatile bool _stopping;
    Exception? _readError;
    byte* _chunk;
    int _chunkLength;
    int _offset;
    long _consumedBefore;
    bool _ended;

    public TarInput(Stream source)
    {
        _source = source;
        foreach (var chunk in _chunks.Pointers)
            _free.Add(chunk);
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "wsd tar input" };
        _reader.Start();
    }

    /// <summary>Bytes of the tar stream consumed so far.</summary>
    public long Position => _consumedBefore + _offset;

    /// <summary>The next 512-byte block, or an empty span at the end of the stream.</summary>
    public ReadOnlySpan<byte> ReadBlock()
    {
        if (!EnsureData())
            return default;
        if (_chunkLength - _offset < TarFormat.BlockSize)
            throw new ArchiveException("the archive ends in the middle of a block (truncated?)", Position);
        var block = new ReadOnlySpan<byte>(_chunk + _offset, TarFormat.BlockSize);
        _offset += TarFormat.BlockSize;
        return block;
    }

    /// <summary>Copies exactly <paramref name="destination"/>.Length bytes.</summary>
    public void ReadExactly(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            if (!EnsureData())
                throw new ArchiveException("the archive ends inside a member (truncated?)", Position);
            int n = Math.Min(destination.Length, _chunkLength - _offset);
            new ReadOnlySpan<byte>(_chunk + _offset, n).CopyTo(destination);
            _offset += n;
            destination = destination[n..];
        }
    }

    /// <summary>Writes the next <paramref name="count"/> bytes to <paramref name="fd"/> at <paramref name="fileOffset"/> (or its current position when negative).</summary>
    public void CopyTo(int fd, long count, long fileOffset, ReadOnlySpan<byte> nameForErrors)
    {
        while (count > 0)
        {
            if (!EnsureData())
                throw new ArchiveException($"the archive ends inside {SyscallException.Display(nameForErrors)} (truncated?)", Position);
            int n = (int)Math.Min(count, _chunkLength - _offset);
            byte* data = _chunk + _offset;
            int left = n;
            while (left > 0)
            {
                nint written = fileOffset >= 0 ? Libc.PWrite(fd, data, left, fileOffset) : Libc.Write(fd, data, left);
                if (written < 0)
                {
                    if (Errno.Last == Errno.EINTR)
                        continue;
                    throw SyscallException.FromLastError("write", nameForErrors);
                }
                data += written;
                left -= (int)written;
                if (fileOffset >= 0)
                    fileOffset += written;
            }
            _offset += n;
            count -= n;
        }
    }

    public void Skip(long count)
    {
        while (count > 0)
        {
            if (!EnsureData())
                throw new ArchiveException("the archive ends inside a member (truncated?)", Position);
            int n = (int)Math.Min(count, _chunkLength - _offset);
            _offset += n;
            count -= n;
        }
    }

    /// <summary>Reads whatever follows the end-of-archive marker, so the whole stream is hashed.</summary>
    public void Drain()
    {
        while (EnsureData())
            _offset = _chunkLength;
    }

    bool EnsureData()
    {
        if (_chunk != null && _offset < _chunkLength)
            return true;
        if (_ended)
            return false;
        if (_chunk != null)
        {
            _consumedBefore += _chunkLength;
            _free.Add((nint)_chunk);
            _chunk = null;
            _chunkLength = _offset = 0;
        }
        if (!_full.Take(out var next))
        {
            _ended = true;
            if (Volatile.Read(ref _readError) is { } error)
                // The archive's own complaints, and a source's that carry their answer (a store that
                // could not be read is UNAVAILABLE, not a broken archive), go out as they are.
                throw error is ArchiveException or Errors.WsdException ? error : new IOException($"reading the archive failed: {error.Message}", error);
            return false;
        }
        _chunk = (byte*)next.Buffer;
        _chunkLength = next.Length;
        _offset = 0;
        return true;
    }

    void ReadLoop()
    {
        try
        {
            while (!_stopping && _free.Take(out nint buffer))
            {
                int filled = 0;
                while (filled < ChunkSize)
                {
                    int n = _source.Read(new Span<byte>((byte*)buffer + filled, ChunkSize - filled));
                    if (n == 0)
                        break;
                    filled += n;
                }
                if (filled > 0 && !_full.Add((buffer, filled)))
                    break;
                if (filled < ChunkSize)
                    break;
            }
        }
        catch (Exception e)
        {
            Volatile.Write(ref _readError, e);
        }
        finally
        {
            _full.Complete();
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _free.Complete();
        _full.Complete();
        // A reader stuck in the source's Read (a stalled network stream) may still write into a
        // chunk: then the chunks stay pinned and out of the pool rather than reused under it.
        if (!_reader.Join(TimeSpan.FromSeconds(10)))
            return;
        _chunks.Dispose();
    }
}
