using Wsd.Interop;

namespace Wsd.Archive;

/// <summary>
/// The archive's output: 1 MiB chunks filled in place (headers encoded into them, file data read
/// straight into them) and written to the target stream by a writer thread, so reading the tree
/// and hashing, compressing or sending the archive run on two cores at once. Memory is fixed at
/// <see cref="ChunkCount"/> × <see cref="ChunkSize"/>.
/// </summary>
public sealed unsafe class TarOutput : IDisposable
{
    public const int ChunkSize = 1 << 20;
    public const int ChunkCount = 4;

    readonly Stream _target;
    readonly HandOff<Piece> _full = new(ChunkCount);
    readonly HandOff<nint> _free = new(ChunkCount);
    readonly Thread _writer;
    readonly PinnedChunks _chunks = new(ChunkCount, ChunkSize);
    Exception? _writeError;
    byte* _buffer;
    int _position;
    long _flushed;
    bool _finished;

    // A filled chunk, with the announcements for an ILargeMemberTarget that fall inside it, each at its offset.
    readonly record struct Piece(nint Buffer, int Length, Mark[]? Marks);
    readonly record struct Mark(int Offset, FileIdentity File, long Length, bool Held);
    readonly List<Mark> _marks = [];

    public TarOutput(Stream target)
    {
        _target = target;
        LargeMembers = target as ILargeMemberTarget;
        for (int i = 1; i < ChunkCount; i++)
            _free.Add(_chunks.Pointers[i]);
        _buffer = (byte*)_chunks.Pointers[0];
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "wsd tar output" };
        _writer.Start();
    }

    /// <summary>Bytes of tar stream produced so far.</summary>
    public long Position => _flushed + _position;

    /// <summary>The target, when it wants large members announced.</summary>
    public ILargeMemberTarget? LargeMembers { get; }

    /// <summary>
    /// Tells the target, in order with the bytes, that the next <paramref name="length"/> bytes are one
    /// member's data (<see cref="ILargeMemberTarget.BeginLarge"/>). When <paramref name="held"/>, the
    /// caller writes none of them: they count as produced, and the target supplies them.
    /// </summary>
    public void AnnounceLarge(in FileIdentity file, long length, bool held)
    {
        // Carried with the chunk it falls in, not a chunk of its own: a workspace of small files
        // announces most of them, and a hand-off per file would cost more than their bytes.
        _marks.Add(new Mark(_position, file, length, held));
        if (held)
            _flushed += length;
    }

    /// <summary>A span of <paramref name="length"/> bytes (at most one block) to fill in place.</summary>
    public Span<byte> Take(int length)
    {
        if (ChunkSize - _position < length)
            Flush();
        var span = new Span<byte>(_buffer + _position, length);
        _position += length;
        return span;
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_position == ChunkSize)
                Flush();
            int n = Math.Min(data.Length, ChunkSize - _position);
            data[..n].CopyTo(new Span<byte>(_buffer + _position, n));
            _position += n;
            data = data[n..];
        }
    }

    public void Zeros(int count)
    {
        while (count > 0)
        {
            if (_position == ChunkSize)
                Flush();
            int n = Math.Min(count, ChunkSize - _position);
            new Span<byte>(_buffer + _position, n).Clear();
            _position += n;
            count -= n;
        }
    }

    /// <summary>
    /// Reads up to <paramref name="size"/> bytes from <paramref name="fd"/> straight into the chunks.
    /// Returns how many it got: fewer when the file shrank while being read.
    /// </summary>
    public long CopyFrom(int fd, long size, ReadOnlySpan<byte> nameForErrors)
    {
        long copied = 0;
        while (copied < size)
        {
            if (_position == ChunkSize)
                Flush();
            nint want = (nint)Math.Min(size - copied, ChunkSize - _position);
            nint got = Libc.Read(fd, _buffer + _position, want);
            if (got < 0)
            {
                if (Errno.Last == Errno.EINTR)
                    continue;
                throw SyscallException.FromLastError("read", nameForErrors);
            }
            if (got == 0)
                break;
            _position += (int)got;
            copied += got;
        }
        return copied;
    }

    /// <summary>Writes the end-of-archive marker (two zero blocks) and waits until everything reached the target.</summary>
    public void Finish()
    {
        Zeros(2 * TarFormat.BlockSize);
        Flush();
        _finished = true;
        _full.Complete();
        _writer.Join();
        ThrowIfWriteFailed();
        _target.Flush();
    }

    void Flush()
    {
        ThrowIfWriteFailed();
        if (_position == 0 && _marks.Count == 0)
            return;
        _full.Add(new Piece((nint)_buffer, _position, _marks.Count > 0 ? [.. _marks] : null));
        _marks.Clear();
        _flushed += _position;
        _position = 0;
        _free.Take(out nint next);
        _buffer = (byte*)next;
        ThrowIfWriteFailed();
    }

    void ThrowIfWriteFailed()
    {
        if (Volatile.Read(ref _writeError) is { } error)
            throw new IOException($"writing the archive failed: {error.Message}", error);
    }

    void WriteLoop()
    {
        while (_full.Take(out var piece))
        {
            try
            {
                // After a failure the rest is drained, not written.
                if (_writeError is null)
                    WritePiece(piece);
            }
            catch (Exception e)
            {
                Volatile.Write(ref _writeError, e);
            }
            _free.Add(piece.Buffer);
        }
    }

    void WritePiece(Piece piece)
    {
        var bytes = new ReadOnlySpan<byte>((byte*)piece.Buffer, piece.Length);
        int at = 0;
        foreach (var mark in piece.Marks ?? [])
        {
            if (mark.Offset > at)
                _target.Write(bytes[at..mark.Offset]);
            at = mark.Offset;
            LargeMembers!.BeginLarge(mark.File, mark.Length, mark.Held);
        }
        if (bytes.Length > at)
            _target.Write(bytes[at..]);
    }

    public void Dispose()
    {
        if (!_finished)
        {
            _full.Complete();
            _writer.Join();
        }
        _chunks.Dispose();
    }
}
