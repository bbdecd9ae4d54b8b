using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Wsd.Config;
using Wsd.Errors;

namespace Wsd.Storage.S3;

/// <summary>
/// Objects in one shared bucket of an S3-compatible service (SPEC §6). Uploads stream as multipart
/// uploads with a bounded number of parts in flight and become visible only on completion; a
/// failed upload is aborted. Reads are parallel ranged GETs handed on in order. The archive's
/// SHA-256 sits beside each object in "&lt;key&gt;.sha256" together with the ETag it describes, so a
/// digest from an older object is never taken for the new one.
/// </summary>
public sealed class S3ObjectStore : IObjectStore, IDisposable
{
    const string DigestSuffix = ".sha256";
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
    }

    public string Bucket => _config.Bucket;

    public async Task<IObjectUpload> BeginUploadAsync(ObjectLocation location, CancellationToken cancellationToken)
    {
        RequireOwnBucket(location);
        await Task.CompletedTask;
        return new S3MultipartUpload(_client, location.Bucket, location.Key, _config.PartSizeMiB << 20, _config.ParallelParts, DigestSuffix);
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
        string? digest = await ReadDigestAsync(location, head.ETag, cancellationToken);
        var content = new S3RangedReadStream(_client, location.Bucket, location.Key, head.ContentLength, ReadRangeBytes, ReadAhead);
        return new StoredObject(content, head.ContentLength, digest);
    }

    async Task<string?> ReadDigestAsync(ObjectLocation location, string etag, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _client.GetObjectAsync(location.Bucket, location.Key + DigestSuffix, cancellationToken);
            using var reader = new StreamReader(response.ResponseStream);
            var fields = (await reader.ReadToEndAsync(cancellationToken)).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            // "<sha256> <etag>": only a digest written for this very object counts.
            return fields.Length == 2 && fields[1] == etag.Trim('"') ? fields[0] : null;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    void RequireOwnBucket(ObjectLocation location)
    {
        if (location.Bucket != Bucket)
            throw new WsdException(ErrorCode.NotFound, $"bucket \"{location.Bucket}\" is not the configured bucket (\"{Bucket}\")");
    }

    internal static WsdException Failure(string what, ObjectLocation location, AmazonS3Exception e) =>
        new(e.StatusCode == HttpStatusCode.NotFound ? ErrorCode.NotFound : ErrorCode.Unavailable,
            $"cannot {what} {location.Qualified}: {e.ErrorCode ?? e.StatusCode.ToString()} {e.Message}", e);

    static string Secret(string inline, string file) => file.Length > 0 ? File.ReadAllText(file).Trim() : inline;

    public void Dispose() => _client.Dispose();
}
