using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Wsd.Config;
using Wsd.Storage;
using Wsd.Storage.S3;
using Wsd.Tests.Support;

namespace Wsd.Tests.Storage;

/// <summary>The s3 store in-process against Ceph RGW on loopback: what a multipart upload leaves, and when.</summary>
public sealed class S3ObjectStoreTests(CephRgw rgw) : IAsyncLifetime
{
    RgwBucket _bucket = null!;
    S3ObjectStore _store = null!;
    AmazonS3Client _plain = null!;
    ObjectLocation _backup;

    public async ValueTask InitializeAsync()
    {
        _bucket = await rgw.NewBucketAsync();
        _store = new S3ObjectStore(_bucket.StoreConfig());
        _plain = _bucket.Client();
        _backup = new ObjectLocation(_bucket.Name, ObjectNames.Key("user-1", "ws-1", ObjectNames.Backup));
    }

    public ValueTask DisposeAsync()
    {
        _plain.Dispose();
        _store.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The parts the service holds of multipart uploads not completed (nor aborted) yet.</summary>
    async Task<List<int>> UnfinishedParts()
    {
        var parts = new List<int>();
        var uploads = await _plain.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = _bucket.Name });
        foreach (var upload in uploads.MultipartUploads ?? [])
        {
            var listed = await _plain.ListPartsAsync(new ListPartsRequest { BucketName = _bucket.Name, Key = upload.Key, UploadId = upload.UploadId });
            parts.AddRange(listed.Parts?.Select(p => p.PartNumber ?? 0) ?? []);
        }
        return parts;
    }

    async Task<List<string>> Keys() =>
        (await _plain.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket.Name })).S3Objects?.Select(o => o.Key).ToList() ?? [];

    [Fact]
    public async Task AMultipartUploadStreamsItsPartsAndAppearsWithItsDigestOnlyWhenCommitted()
    {
        byte[] data = SampleTree.Pattern(13 << 20); // parts of 5, 5 and 3 MiB
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(data));

        await using (var upload = await _store.BeginUploadAsync(_backup, default))
        {
            await upload.Content.WriteAsync(data.AsMemory(0, 11 << 20));
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while ((await UnfinishedParts()).Count < 2 && DateTime.UtcNow < deadline)
                await Task.Delay(50);
            Assert.Equal([1, 2], (await UnfinishedParts()).Order()); // sent while the archive is still being written
            Assert.Null(await _store.OpenReadAsync(_backup, default));

            await upload.Content.WriteAsync(data.AsMemory(11 << 20));
            await upload.CommitAsync(sha256, default);
        }

        var head = await _plain.GetObjectMetadataAsync(_bucket.Name, _backup.Key);
        await using var stored = await _store.OpenReadAsync(_backup, default);
        using var copy = new MemoryStream();
        await stored!.Content.CopyToAsync(copy);
        Assert.Equal("sha256:" + sha256, head.Metadata["x-amz-meta-gitpod-digest"]);
        Assert.Equal(sha256, stored.Sha256);
        Assert.Equal(data, copy.ToArray());
        Assert.Equal([_backup.Key], await Keys()); // the staged copy is gone
        Assert.Empty(await UnfinishedParts());
    }

    [Fact]
    public async Task ASmallObjectIsOnePutWithItsDigest()
    {
        byte[] data = SampleTree.Pattern(100_000);
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(data));
        await using (var upload = await _store.BeginUploadAsync(_backup, default))
        {
            await upload.Content.WriteAsync(data);
            await upload.CommitAsync(sha256, default);
        }

        await using var stored = await _store.OpenReadAsync(_backup, default);
        Assert.Equal(sha256, stored!.Sha256);
        Assert.Equal(data.Length, stored.Length);
        Assert.Equal([_backup.Key], await Keys());
    }

    [Fact]
    public async Task AnUploadDisposedWithoutCommitIsAbortedAndLeavesThePreviousObject()
    {
        await using (var first = await _store.BeginUploadAsync(_backup, default))
        {
            await first.Content.WriteAsync("previous"u8.ToArray());
            await first.CommitAsync(new string('a', 64), default);
        }

        await using (var second = await _store.BeginUploadAsync(_backup, default))
            await second.Content.WriteAsync(SampleTree.Pattern(12 << 20));

        await using var stored = await _store.OpenReadAsync(_backup, default);
        using var reader = new StreamReader(stored!.Content);
        Assert.Equal("previous", await reader.ReadToEndAsync());
        Assert.Equal(new string('a', 64), stored.Sha256);
        Assert.Equal([_backup.Key], await Keys());
        Assert.Empty(await UnfinishedParts()); // aborted, not left to a lifecycle rule
    }

    [Fact]
    public async Task AnObjectWithoutADigestReadsAsUnverified()
    {
        await _plain.PutObjectAsync(new PutObjectRequest { BucketName = _bucket.Name, Key = _backup.Key, ContentBody = "from elsewhere", UseChunkEncoding = false });

        await using var stored = await _store.OpenReadAsync(_backup, default);
        Assert.NotNull(stored);
        Assert.Null(stored.Sha256);
    }

    [Fact]
    public async Task ObjectsAboveTheSingleCopyLimitArePublishedByAMultipartCopy()
    {
        // The path of a backup above 5 GiB, scaled down: a 1 MiB limit and 5 MiB copy parts (the
        // smallest S3 allows) make a 12 MiB object three UploadPartCopy ranges, two at a time.
        byte[] data = SampleTree.Pattern(12 << 20);
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(data));
        await _plain.PutObjectAsync(new PutObjectRequest { BucketName = _bucket.Name, Key = "staged", InputStream = new MemoryStream(data), UseChunkEncoding = false });

        await S3ServerSideCopy.CopyAsync(_plain, _bucket.Name, "staged", _backup.Key, data.Length,
            m => m.Add("gitpod-digest", "sha256:" + sha256), parallel: 2, default, singleCopyLimit: 1 << 20, copyPartBytes: 5 << 20);

        var head = await _plain.GetObjectMetadataAsync(_bucket.Name, _backup.Key);
        await using var stored = await _store.OpenReadAsync(_backup, default);
        using var copy = new MemoryStream();
        await stored!.Content.CopyToAsync(copy);
        Assert.Equal(data, copy.ToArray());
        Assert.Equal(sha256, stored.Sha256);
        Assert.EndsWith("-3\"", head.ETag); // a multipart object of three parts
        Assert.Equal("application/x-tar", head.Headers.ContentType);
        Assert.Empty(await UnfinishedParts());
    }
}
