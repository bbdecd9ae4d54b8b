using System.Collections.Concurrent;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Wsd.Errors;

namespace Wsd.Storage.S3;

/// <summary>
/// One streaming upload: bytes fill a part buffer; a full part is sent while the next fills, at
/// most <c>parallel</c> parts in flight. The part buffers are this upload's own (at most
/// parallel + 1, reused), so memory is (parallel + 1) × partSize and goes when the upload does;
/// a shared pool would keep such large buffers for the life of the process. The multipart upload
/// is started with the first full part; an object smaller than one part is a single PUT at commit,
/// carrying its digest as metadata. A larger one streams to its own key, and commit sends its
/// digest as the object's last 512 bytes (<see cref="DigestTrailer"/>) and completes it: the object
/// appears then, whole and bound to its digest, with no second pass over it on the service
/// (docs/storage-publishing.md). Disposing without commit aborts; nothing appears under the key
/// unless the whole archive made it, and until then the previous object stays as it was.
/// </summary>
sealed class S3MultipartUpload : Stream, IObjectUpload
{
    readonly IAmazonS3 _client;
    readonly string _bucket, _key;
    readonly int _parallel;
    readonly int _partSize;
    readonly SemaphoreSlim _inFlight;
    readonly List<Task<PartETag>> _parts = [];
    readonly ConcurrentBag<byte[]> _spare = [];
    byte[] _buffer;
    int _filled;
    long _length;
    string? _uploadId;
    bool _committed;

    readonly bool _digestTrailer;
    readonly bool _unsignedPayload;
    readonly int _maxParts;
    readonly LargeBufferRelease? _release;
    const int MaxParts = 10_000;
    readonly Action<string>? _abortFailed;

    /// <param name="digestTrailer">
    /// A multipart upload ends with the digest's trailer: only for a tar archive, whose readers stop before it.
    /// Other content of more than one part is stored without its digest.
    /// </param>
    /// <param name="abortFailed">Told the upload ID when an abort could not reach the service, so that it can be ended later.</param>
    /// <param name="unsignedPayload">
    /// The body is sent as UNSIGNED-PAYLOAD: only over TLS, which already protects it on the way
    /// (docs/storage-publishing.md, "Payload signing").
    /// </param>
    /// <param name="maxParts">S3's limit on the parts of one upload (10,000); lower only in tests.</param>
    /// <param name="release">Told when the part buffers are let go, to give their memory back.</param>
    public S3MultipartUpload(IAmazonS3 client, string bucket, string key, int partSize, int parallel, bool digestTrailer = true,
        Action<string>? abortFailed = null, bool unsignedPayload = false, int maxParts = MaxParts, LargeBufferRelease? release = null)
    {
        _release = release;
        _maxParts = maxParts;
        _digestTrailer = digestTrailer;
        _unsignedPayload = unsignedPayload;
        _abortFailed = abortFailed;
        _client = client;
        _bucket = bucket;
        _key = key;
        _partSize = partSize;
        _parallel = parallel;
        _inFlight = new SemaphoreSlim(parallel, parallel);
        _buffer = new byte[partSize];
    }

    public Stream Content => this;

    public override void Write(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int n = Math.Min(data.Length, _partSize - _filled);
            data[..n].CopyTo(_buffer.AsSpan(_filled));
            _filled += n;
            data = data[n..];
            _length += n;
            if (_filled == _partSize)
                SendPart();
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    // Called on the archive's writer thread: blocking here is the back-pressure that bounds memory.
    void SendPart()
    {
        if (_parts.Count == _maxParts)
            throw new WsdException(ErrorCode.FailedPrecondition,
                $"cannot upload {new ObjectLocation(_bucket, _key).Qualified}: it is larger than {_maxParts:N0} parts of {_partSize >> 20} MiB, " +
                $"the most one S3 upload may have; raise content.storage.s3.partSizeMiB");
        try
        {
            _uploadId ??= Initiate();
        }
        catch (Exception e) when (S3Faults.IsServiceFault(e))
        {
            throw Failure(e);
        }
        _inFlight.Wait();
        var first = _parts.FirstOrDefault(p => p.IsFaulted);
        if (first is not null)
        {
            _inFlight.Release();
            first.GetAwaiter().GetResult(); // surface the failure now, not at commit
        }
        byte[] part = _buffer;
        int length = _filled, number = _parts.Count + 1;
        _buffer = _spare.TryTake(out var spare) ? spare : new byte[_partSize];
        _filled = 0;
        _parts.Add(Task.Run(async () =>
        {
            try
            {
                using var body = new MemoryStream(part, 0, length, writable: false);
                var response = await _client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = _bucket, Key = _key, UploadId = _uploadId, PartNumber = number, InputStream = body,
                    UseChunkEncoding = false, // one plain body, no aws-chunked framing: every S3-compatible server understands it
                    DisablePayloadSigning = _unsignedPayload ? true : null,
                });
                return new PartETag(number, response.ETag);
            }
            catch (Exception e) when (S3Faults.IsServiceFault(e))
            {
                throw Failure(e);
            }
            finally
            {
                _spare.Add(part);
                _inFlight.Release();
            }
        }));
    }

    public async Task CommitAsync(string? sha256, CancellationToken cancellationToken)
    {
        try
        {
            await CompleteAsync(sha256, cancellationToken);
        }
        catch (Exception e) when (S3Faults.IsServiceFault(e))
        {
            throw Failure(e);
        }
    }

    WsdException Failure(Exception e) => S3Faults.Failure("upload", new ObjectLocation(_bucket, _key), e);

    async Task CompleteAsync(string? sha256, CancellationToken cancellationToken)
    {
        if (_uploadId is null)
        {
            using var body = new MemoryStream(_buffer, 0, _filled, writable: false);
            var put = new PutObjectRequest { BucketName = _bucket, Key = _key, InputStream = body, UseChunkEncoding = false,
                DisablePayloadSigning = _unsignedPayload ? true : null, ContentType = _digestTrailer ? "application/x-tar" : null };
            if (sha256 is not null)
                DigestMetadata.Apply(put.Metadata, sha256);
            await _client.PutObjectAsync(put, cancellationToken);
            _committed = true;
            return;
        }
        if (_digestTrailer)
            Write(DigestTrailer.Build(sha256 ?? throw new ArgumentNullException(nameof(sha256), "a tar archive is committed with its digest"), _length));
        if (_filled > 0)
            SendPart();
        var parts = await Task.WhenAll(_parts);
        var complete = new CompleteMultipartUploadRequest { BucketName = _bucket, Key = _key, UploadId = _uploadId };
        complete.AddPartETags(parts);
        await _client.CompleteMultipartUploadAsync(complete, cancellationToken);
        _committed = true;
    }

    string Initiate()
    {
        var start = new InitiateMultipartUploadRequest { BucketName = _bucket, Key = _key };
        if (_digestTrailer)
        {
            start.ContentType = "application/x-tar";
            DigestMetadata.MarkTrailer(start.Metadata);
        }
        return _client.InitiateMultipartUploadAsync(start).GetAwaiter().GetResult().UploadId;
    }

    public override ValueTask DisposeAsync()
    {
        Dispose(true);
        return ValueTask.CompletedTask;
    }

    protected override void Dispose(bool disposing)
    {
        if (!disposing || _buffer.Length == 0)
            return;
        _buffer = [];
        _spare.Clear();
        _release?.Dropped();
        if (!_committed && _uploadId is not null)
        {
            try
            {
                Task.WhenAll(_parts).Wait(TimeSpan.FromMinutes(1));
            }
            catch (AggregateException)
            {
                // Parts that failed are aborted with the rest.
            }
            try
            {
                _client.AbortMultipartUploadAsync(_bucket, _key, _uploadId).GetAwaiter().GetResult();
            }
            catch (Exception e) when (S3Faults.IsServiceFault(e) || e is OperationCanceledException)
            {
                // An upload that cannot be aborted is never completed either: it stays invisible,
                // and is aborted again before the next upload of this key.
                _abortFailed?.Invoke(_uploadId);
            }
        }
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
