using Wsd.Linux;

namespace Wsd.Storage;

/// <summary>
/// The file an upload writes into the local store. A write the store's filesystem refuses (full,
/// over quota, read-only) is answered naming the store and its free space, not the working area the
/// archive is read from (docs/faults.md).
/// </summary>
sealed class StoreWriteStream(FileStream file, string storeRoot) : Stream
{
    public FileStream File => file;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => file.Length;
    public override long Position { get => file.Position; set => throw new NotSupportedException(); }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        try
        {
            file.Write(buffer);
        }
        catch (IOException e)
        {
            throw Explain(e);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            await file.WriteAsync(buffer, cancellationToken);
        }
        catch (IOException e)
        {
            throw Explain(e);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
        try
        {
            file.Flush();
        }
        catch (IOException e)
        {
            throw Explain(e);
        }
    }

    /// <summary>The answer for a failed write into the store: explained when its filesystem caused it, else as it was.</summary>
    public Exception Explain(Exception e) => FilesystemFaults.Explain(e, "store", storeRoot) ?? e;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            file.Dispose();
        base.Dispose(disposing);
    }
}
