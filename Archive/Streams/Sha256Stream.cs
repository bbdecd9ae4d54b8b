using System.Security.Cryptography;

namespace Wsd.Archive.Streams;

/// <summary>
/// Passes bytes through to or from an inner stream and hashes them on the way, so an archive's
/// SHA-256 costs no second pass and no temporary file (docs/decisions.md#archives). Large writes are
/// hashed on a helper thread while the inner stream writes the same bytes, so hashing adds no time to a
/// writer that is busy in the kernel anyway.
/// </summary>
public sealed unsafe class Sha256Stream(Stream inner, bool leaveOpen = false) : Stream
{
    const int ParallelThreshold = 256 * 1024;

    readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    readonly object _gate = new();
    Thread? _hasher;
    byte* _pending;
    int _pendingLength;
    bool _hashing;
    bool _closing;
    long _length;

    /// <summary>Bytes that went through.</summary>
    public long BytesHashed => _length;

    /// <summary>The digest of everything so far, as lowercase hex.</summary>
    public string HexDigest() => Convert.ToHexStringLower(_hash.GetCurrentHash());

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        _hash.AppendData(buffer[..n]);
        _length += n;
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _length += buffer.Length;
        if (buffer.Length < ParallelThreshold)
        {
            _hash.AppendData(buffer);
            inner.Write(buffer);
            return;
        }
        fixed (byte* data = buffer)
        {
            lock (_gate)
            {
                _hasher ??= StartHasher();
                _pending = data;
                _pendingLength = buffer.Length;
                _hashing = true;
                Monitor.PulseAll(_gate);
            }
            try
            {
                inner.Write(buffer);
            }
            finally
            {
                // The buffer is only pinned for this call: the hash must be done with it before returning.
                lock (_gate)
                {
                    while (_hashing)
                        Monitor.Wait(_gate);
                }
            }
        }
    }

    Thread StartHasher()
    {
        var thread = new Thread(HashLoop) { IsBackground = true, Name = "wsd sha256" };
        thread.Start();
        return thread;
    }

    void HashLoop()
    {
        while (true)
        {
            byte* data;
            int length;
            lock (_gate)
            {
                while (!_hashing && !_closing)
                    Monitor.Wait(_gate);
                if (!_hashing)
                    return;
                data = _pending;
                length = _pendingLength;
            }
            _hash.AppendData(new ReadOnlySpan<byte>(data, length));
            lock (_gate)
            {
                _hashing = false;
                Monitor.PulseAll(_gate);
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Flush() => inner.Flush();

    public override bool CanRead => inner.CanRead;
    public override bool CanWrite => inner.CanWrite;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _length; set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (_gate)
            {
                _closing = true;
                Monitor.PulseAll(_gate);
            }
            _hasher?.Join();
            _hash.Dispose();
            if (!leaveOpen)
                inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
