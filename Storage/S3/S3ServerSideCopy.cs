using Amazon.S3;
using Amazon.S3.Model;

namespace Wsd.Storage.S3;

/// <summary>
/// Copies a completed object to its final key inside the service, with new metadata. A multipart
/// upload's metadata is fixed when it starts, before the archive's digest is known, so a large
/// backup is staged under a temporary key and published by this copy: the final key changes in
/// one step, from the previous backup to the new one carrying its digest. Up to 5 GiB this is one
/// CopyObject; above, S3's limit for it, a multipart copy of large ranges, several at a time.
/// The two sizes are parameters only so that tests can take the multipart path with small objects.
/// </summary>
static class S3ServerSideCopy
{
    const long SingleCopyLimit = 5L << 30;
    const long CopyPartBytes = 1L << 30;

    public static async Task CopyAsync(IAmazonS3 client, string bucket, string sourceKey, string destinationKey, long length,
        Action<MetadataCollection> metadata, int parallel, CancellationToken cancellationToken,
        long singleCopyLimit = SingleCopyLimit, long copyPartBytes = CopyPartBytes)
    {
        if (length <= singleCopyLimit)
        {
            var copy = new CopyObjectRequest
            {
                SourceBucket = bucket, SourceKey = sourceKey, DestinationBucket = bucket, DestinationKey = destinationKey,
                MetadataDirective = S3MetadataDirective.REPLACE, ContentType = "application/x-tar",
            };
            metadata(copy.Metadata);
            await client.CopyObjectAsync(copy, cancellationToken);
            return;
        }

        var initiate = new InitiateMultipartUploadRequest { BucketName = bucket, Key = destinationKey, ContentType = "application/x-tar" };
        metadata(initiate.Metadata);
        string uploadId = (await client.InitiateMultipartUploadAsync(initiate, cancellationToken)).UploadId;
        try
        {
            long partBytes = Math.Max(copyPartBytes, (length + 9_999) / 10_000); // S3 allows 10,000 parts
            int count = (int)((length + partBytes - 1) / partBytes);
            using var slots = new SemaphoreSlim(parallel, parallel);
            var parts = Enumerable.Range(1, count).Select(async number =>
            {
                await slots.WaitAsync(cancellationToken);
                try
                {
                    long first = (number - 1) * partBytes;
                    var response = await client.CopyPartAsync(new CopyPartRequest
                    {
                        SourceBucket = bucket, SourceKey = sourceKey, DestinationBucket = bucket, DestinationKey = destinationKey,
                        UploadId = uploadId, PartNumber = number, FirstByte = first, LastByte = Math.Min(first + partBytes, length) - 1,
                    }, cancellationToken);
                    return new PartETag(number, response.ETag);
                }
                finally
                {
                    slots.Release();
                }
            }).ToList();
            var complete = new CompleteMultipartUploadRequest { BucketName = bucket, Key = destinationKey, UploadId = uploadId };
            complete.AddPartETags(await Task.WhenAll(parts));
            await client.CompleteMultipartUploadAsync(complete, cancellationToken);
        }
        catch
        {
            await AbortQuietly(client, bucket, destinationKey, uploadId);
            throw;
        }
    }

    static async Task AbortQuietly(IAmazonS3 client, string bucket, string key, string uploadId)
    {
        try
        {
            await client.AbortMultipartUploadAsync(bucket, key, uploadId);
        }
        catch (AmazonS3Exception)
        {
            // Never completed, so never visible; a bucket lifecycle rule reclaims the parts (README).
        }
    }
}
