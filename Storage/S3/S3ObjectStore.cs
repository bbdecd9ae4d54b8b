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
/// user metadata of the object itself (<see cref="DigestMetadata"/>), so it can never describe another
/// version of it.
/// </summary>
public sealed class S3ObjectStore : IObjectStore, IDisposable
{
    /// <summary>Staged uploads are "&lt;key&gt;.upload-&lt;random&gt;", beside their object.</summary>
    const string StagingInfix = ".upload-";
    static readonly TimeSpan AbandonedAfter = TimeSpan.FromHours(6);
    const int ReadRangeBytes = 8 << 20;
    const int ReadAhead = 4;

    readonly AmazonS3Client _client;
    readonly S3StorageConfig _config;

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
        };
        if (config.Endpoint.Length > 0)
            s3.ServiceURL = config.Endpoint;
        else
            s3.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(config.Region);
        _client = new AmazonS3Client(new BasicAWSCredentials(Secret(config.AccessKey, config.AccessKeyFile), Secret(config.SecretKey, config.SecretKeyFile)), s3);
        _client.BeforeRequestEvent += LiteralSlashesInCopySource;
    }

    // The SDK sends a copy's source as one URL-encoded string, "bucket%2Fkey". S3 takes that, but some
    // S3-compatible servers (s3rver among them) split it on literal slashes only; AWS's documentation
    // writes it "bucket/key". Rewritten before signing, so the signature covers what is sent.
    static void LiteralSlashesInCopySource(object sender, RequestEventArgs e)
    {
        const string Header = "x-amz-copy-source";
        if (e is WebServiceRequestEventArgs request && request.Headers.TryGetValue(Header, out string? source))
            request.Headers[Header] = source.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
    }

    public string Bucket => _config.Bucket;

    public async Task<IObjectUpload> BeginUploadAsync(ObjectLocation location, CancellationToken cancellationToken)
    {
        RequireOwnBucket(location);
        await SweepAbandonedStagingAsync(location, cancellationToken);
        string staging = location.Key + StagingInfix + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        return new S3MultipartUpload(_client, location.Bucket, location.Key, staging, _config.PartSizeMiB << 20, _config.ParallelParts);
    }

    // A daemon that died between staging and publishing leaves the staged object behind. Only old
    // ones go: a younger one may belong to an upload still running elsewhere.
    async Task SweepAbandonedStagingAsync(ObjectLocation location, CancellationToken cancellationToken)
    {
        try
        {
            var listing = await _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = location.Bucket, Prefix = location.Key + StagingInfix }, cancellationToken);
            foreach (var stale in listing.S3Objects ?? [])
            {
                if (stale.LastModified is { } modified && DateTime.UtcNow - modified.ToUniversalTime() > AbandonedAfter)
                    await _client.DeleteObjectAsync(location.Bucket, stale.Key, cancellationToken);
            }
        }
        catch (AmazonS3Exception)
        {
            // Tidying only; the upload itself reports what is wrong with the bucket.
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
        catch (AmazonS3Exception e)
        {
            throw Failure("look up", location, e);
        }
        string? digest = DigestMetadata.Read(head.Metadata);
        var content = new S3RangedReadStream(_client, location.Bucket, location.Key, head.ContentLength, ReadRangeBytes, ReadAhead);
        return new StoredObject(content, head.ContentLength, digest);
    }

    void RequireOwnBucket(ObjectLocation location)
    {
        if (location.Bucket != Bucket)
            throw new WsdException(ErrorCode.NotFound, $"bucket \"{location.Bucket}\" is not the configured bucket (\"{Bucket}\")");
    }

    internal static WsdException Failure(string what, ObjectLocation location, AmazonS3Exception e) =>
        new(e.StatusCode == HttpStatusCode.NotFound ? ErrorCode.NotFound : ErrorCode.Unavailable,
            $"cannot {what} {location.Qualified}: {e.ErrorCode ?? e.StatusCode.ToString()} {e.Message}".TrimEnd(), e);

    static string Secret(string inline, string file) => file.Length > 0 ? File.ReadAllText(file).Trim() : inline;

    public void Dispose() => _client.Dispose();
}
