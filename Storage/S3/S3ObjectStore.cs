using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Wsd.Config;
using Wsd.Errors;

namespace Wsd.Storage.S3;

/// <summary>
/// Objects in one shared bucket of an S3-compatible service (docs/decisions.md#storage). Uploads stream
/// as multipart uploads with a bounded number of parts in flight and become visible only on completion; a
/// failed upload is aborted. Reads are parallel ranged GETs handed on in order. The archive's SHA-256 is
/// part of the object itself, as user metadata (<see cref="DigestMetadata"/>) or, for a multipart
/// upload, its last 512 bytes (<see cref="DigestTrailer"/>), so it can never describe another version
/// of it (docs/storage-publishing.md).
/// </summary>
public sealed class S3ObjectStore : IObjectStore, IDisposable
{
    /// <summary>An unfinished multipart upload this old was left by a daemon that died (README, "S3 storage").</summary>
    static readonly TimeSpan AbandonedAfter = TimeSpan.FromHours(6);
    const int ReadRangeBytes = 8 << 20;
    const int ReadAhead = 4;
    // The SDK writes request bodies in pieces of this size. Its default, 8 KiB, becomes 8 KiB TLS
    // records and socket reads on the service: measured against RGW, that cost the gateway about
    // half again as much CPU per byte as 64 KiB pieces (docs/platform.md#ceph-rgw-in-tests). Below
    // 85,000 bytes, so the SDK's per-request buffer stays off the large-object heap.
    const int TransferBufferBytes = 64 << 10;

    readonly AmazonS3Client _client;
    readonly S3StorageConfig _config;
    // Bodies over TLS go unsigned: signing them is a second SHA-256 pass on this node and on the
    // service for what TLS already protects (docs/storage-publishing.md, "Payload signing").
    readonly bool _overTls;

    // Uploads of this daemon whose abort could not reach the service: (key, upload ID).
    readonly System.Collections.Concurrent.ConcurrentDictionary<(string Key, string UploadId), byte> _unaborted = new();
    readonly LargeBufferRelease _release = LargeBufferRelease.Shared;

    public S3ObjectStore(S3StorageConfig config)
    {
        _config = config;
        var s3 = new AmazonS3Config
        {
            AuthenticationRegion = config.Region,
            ForcePathStyle = config.PathStyle,
            Timeout = config.RequestTimeout,
            MaxErrorRetry = config.MaxRetries, // per request, exponential backoff with jitter (the SDK's standard retry mode)
            RetryMode = RequestRetryMode.Standard,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            BufferSize = TransferBufferBytes,
        };
        if (config.CaFile.Length > 0)
            s3.HttpClientFactory = new PrivateCaHttpClientFactory(config.CaFile);
        _overTls = config.Endpoint.Length == 0 || config.Endpoint.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
        if (config.Endpoint.Length > 0)
            s3.ServiceURL = config.Endpoint;
        else
            s3.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(config.Region);
        _client = new AmazonS3Client(new BasicAWSCredentials(Secret(config.AccessKey, config.AccessKeyFile), Secret(config.SecretKey, config.SecretKeyFile)), s3);
    }

    public string Bucket => _config.Bucket;

    public async Task<IObjectUpload> BeginUploadAsync(ObjectLocation location, ObjectContent content, CancellationToken cancellationToken)
    {
        RequireOwnBucket(location);
        await SweepAbandonedUploadsAsync(location, cancellationToken);
        return new S3MultipartUpload(_client, location.Bucket, location.Key, _config.PartSizeMiB << 20, _config.ParallelParts,
            digestTrailer: content == ObjectContent.TarArchive, abortFailed: uploadId => _unaborted.TryAdd((location.Key, uploadId), 0),
            unsignedPayload: _overTls, release: _release);
    }

    // Unfinished uploads cost storage until they are aborted. This daemon's own that failed to abort
    // go at once; another's only when old: a younger one may be an upload still running elsewhere.
    async Task SweepAbandonedUploadsAsync(ObjectLocation location, CancellationToken cancellationToken)
    {
        try
        {
            var listing = await _client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = location.Bucket, Prefix = location.Key }, cancellationToken);
            // The prefix also lists longer keys; those are another object's, and so is what this daemon remembers of them.
            foreach (var upload in (listing.MultipartUploads ?? []).Where(u => u.Key == location.Key))
            {
                bool ours = _unaborted.TryRemove((upload.Key, upload.UploadId), out _);
                bool old = upload.Initiated is { } initiated && DateTime.UtcNow - initiated.ToUniversalTime() > AbandonedAfter;
                if (ours || old)
                    await _client.AbortMultipartUploadAsync(location.Bucket, upload.Key, upload.UploadId, cancellationToken);
            }
        }
        catch (Exception e) when (S3Faults.IsServiceFault(e))
        {
            // Tidying only; the upload itself reports what is wrong with the service or the bucket.
        }
    }

    public async Task<StoredObject?> OpenReadAsync(ObjectLocation location, CancellationToken cancellationToken)
    {
        RequireOwnBucket(location);
        GetObjectMetadataResponse head;
        try
        {
            head = await _client.GetObjectMetadataAsync(location.Bucket, location.Key, cancellationToken);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception e) when (S3Faults.IsServiceFault(e))
        {
            throw S3Faults.Failure("look up", location, e);
        }
        long length = head.ContentLength;
        string? digest = DigestMetadata.Read(head.Metadata);
        if (digest is null && DigestMetadata.HasTrailer(head.Metadata))
        {
            digest = await ReadTrailerAsync(location, head, cancellationToken);
            length -= DigestTrailer.Size; // the archive is what comes before it
        }
        var content = new S3RangedReadStream(_client, location.Bucket, location.Key, head.ETag, length, ReadRangeBytes, ReadAhead, _release);
        return new StoredObject(content, length, digest);
    }

    public async Task<int?> ReadRangeAsync(ObjectLocation location, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        RequireOwnBucket(location);
        if (destination.IsEmpty)
            return 0;
        try
        {
            using var response = await _client.GetObjectAsync(new GetObjectRequest
            {
                BucketName = location.Bucket, Key = location.Key, ByteRange = new ByteRange(offset, offset + destination.Length - 1),
            }, cancellationToken);
            int length = (int)Math.Min(destination.Length, response.ContentLength);
            await response.ResponseStream.ReadExactlyAsync(destination[..length], cancellationToken);
            return length;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            return 0; // the range starts past the end
        }
        catch (Exception e) when (S3Faults.IsServiceFault(e))
        {
            throw S3Faults.Failure("read", location, e);
        }
    }

    // The trailer of the very object the HEAD described (If-Match): a newer backup completed in
    // between is refused, not mixed with this one's length.
    async Task<string> ReadTrailerAsync(ObjectLocation location, GetObjectMetadataResponse head, CancellationToken cancellationToken)
    {
        var block = new byte[DigestTrailer.Size];
        if (head.ContentLength >= DigestTrailer.Size)
        {
            try
            {
                using var response = await _client.GetObjectAsync(new GetObjectRequest
                {
                    BucketName = location.Bucket, Key = location.Key, EtagToMatch = head.ETag,
                    ByteRange = new ByteRange(head.ContentLength - DigestTrailer.Size, head.ContentLength - 1),
                }, cancellationToken);
                await response.ResponseStream.ReadExactlyAsync(block, cancellationToken);
            }
            catch (Exception e) when (S3Faults.IsServiceFault(e))
            {
                throw S3Faults.Failure("read the digest of", location, e);
            }
            if (DigestTrailer.TryRead(block, head.ContentLength, out string sha256))
                return sha256;
        }
        throw new WsdException(ErrorCode.DataLoss, $"{location.Qualified} is damaged: it was written with its SHA-256 in its last {DigestTrailer.Size} bytes, and they do not hold it");
    }

    void RequireOwnBucket(ObjectLocation location)
    {
        if (location.Bucket != Bucket)
            throw new WsdException(ErrorCode.NotFound, $"bucket \"{location.Bucket}\" is not the configured bucket (\"{Bucket}\")");
    }

    static string Secret(string inline, string file) => file.Length > 0 ? File.ReadAllText(file).Trim() : inline;

    public void Dispose() => _client.Dispose();
}
