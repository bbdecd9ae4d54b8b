using System.Collections.Concurrent;
using Amazon.S3;
using Amazon.S3.Model;

namespace Wsd.Storage.S3;

/// <summary>
/// Reads an object as parallel ranged GETs: up to <c>readAhead</c> ranges are fetched ahead while
/// the extractor consumes the current one, in order. Each range is one request the SDK retries, of
/// the object version <c>etag</c> names: one replaced meanwhile fails the read instead of mixing in.
/// </summary>
sealed class S3RangedReadStream(IAmazonS3 client, string bucket, string key, string etag, long length, int rangeBytes, int readAhead,
    LargeBufferRelease? release = null) : Stream
{
    readonly Queue<Task<byte[]>> _pending = new();
    readonly ConcurrentBag<byte[]> _spare = [];
    long _nextRange;
    byte[] _current = [];
    int _currentLength;
    int _offset;

    public override int Read(Span<byte> destination)
    {
        while (_offset == _currentLength)
        {
            Fill();
            if (_pending.Count == 0)
                return 0;
            if (_current.Length > 0)
                _spare.Add(_current);
            _current = _pending.Dequeue().GetAwaiter().GetResult();
            _currentLength = RangeLength(_consumedRanges++);
            _offset = 0;
        }
        int n = Math.Min(destination.Length, _currentLength - _offset);
        _current.AsSpan(_offset, n).CopyTo(destination);
        _offset += n;
        Fill();
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    void Fill()
    {
        while (_pending.Count < readAhead && _nextRange < length)
        {
            long start = _nextRange, end = Math.Min(length, start + rangeBytes) - 1;
            _nextRange = end + 1;
            _pending.Enqueue(Task.Run(() => FetchAsync(start, end)));
        }
    }

    long _consumedRanges;

    int RangeLength(long index) => (int)Math.Min(rangeBytes, length - index * rangeBytes);

    // Range buffers are reused once consumed: memory stays at readAhead + 1 ranges for this read.
    async Task<byte[]> FetchAsync(long start, long end)
    {
        try
        {
            using var response = await client.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = key, EtagToMatch = etag, ByteRange = new ByteRange(start, end) });
            var data = _spare.TryTake(out var spare) ? spare : new byte[rangeBytes];
            await response.ResponseStream.ReadExactlyAsync(data.AsMemory(0, (int)(end - start + 1)));
            return data;
        }
        catch (Exception e) when (S3Faults.IsServiceFault(e))
        {
            throw S3Faults.Failure("read", new ObjectLocation(bucket, key), e);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _current is not [])
        {
            _current = [];
            _spare.Clear();
            release?.Dropped();
        }
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
