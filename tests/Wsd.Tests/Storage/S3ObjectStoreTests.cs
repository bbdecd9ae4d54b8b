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

    async Task<byte[]> RawObject()
    {
        using var response = await _plain.GetObjectAsync(_bucket.Name, _backup.Key);
        using var bytes = new MemoryStream();
        await response.ResponseStream.CopyToAsync(bytes);
        return bytes.ToArray();
    }

    async Task PutMarkedForATrailer(byte[] content) =>
        await _plain.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _bucket.Name, Key = _backup.Key, InputStream = new MemoryStream(content), UseChunkEncoding = false,
            Metadata = { ["wsd-digest"] = "trailer-v1" },
        });

    async Task<List<string>> Keys() =>
        (await _plain.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket.Name })).S3Objects?.Select(o => o.Key).ToList() ?? [];

    [Fact]
    public async Task AMultipartUploadStreamsItsPartsAndAppearsWithItsDigestTrailerOnlyWhenCommitted()
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
        byte[] raw = await RawObject();
        await using var stored = await _store.OpenReadAsync(_backup, default);
        using var copy = new MemoryStream();
        await stored!.Content.CopyToAsync(copy);
        Assert.Equal("trailer-v1", head.Metadata["x-amz-meta-wsd-digest"]);
        Assert.Equal(data.Length + 512, raw.Length); // the archive, then its digest's block
        Assert.StartsWith($"wsd-digest-v1 sha256:{sha256} length:{data.Length}\n", System.Text.Encoding.ASCII.GetString(raw, data.Length, 512));
        Assert.Equal(sha256, stored.Sha256);
        Assert.Equal(data.Length, stored.Length);
        Assert.Equal(data, copy.ToArray()); // read without the trailer
        Assert.Equal([_backup.Key], await Keys()); // published where it was uploaded: no staging, no copy
        Assert.Empty(await UnfinishedParts());
        Assert.EndsWith("-3\"", head.ETag); // one multipart object of three parts, not a copy
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
    public async Task AGatewayKilledMidUploadLeavesThePreviousObjectAndTheNextUploadAbortsTheAbandonedOne()
    {
        await using var gateway = await rgw.OwnGatewayAsync();
        var config = gateway.Serving(_bucket).StoreConfig();
        config.MaxRetries = 1;
        using var store = new S3ObjectStore(config);
        await using (var first = await store.BeginUploadAsync(_backup, default))
        {
            await first.Content.WriteAsync("previous"u8.ToArray());
            await first.CommitAsync(new string('a', 64), default);
        }

        var second = await store.BeginUploadAsync(_backup, default);
        await second.Content.WriteAsync(SampleTree.Pattern((10 << 20) + 1)); // two parts sent, a third begun
        await Task.Delay(TimeSpan.FromSeconds(2)); // the parts reach the service
        await gateway.KillAsync();
        var e = await Assert.ThrowsAsync<Wsd.Errors.WsdException>(() => second.CommitAsync(new string('b', 64), default));
        Assert.Equal(Wsd.Errors.ErrorCode.Unavailable, e.Code);
        Assert.Contains($"cannot upload {_backup.Qualified}: the storage service cannot be reached", e.Message);
        await second.DisposeAsync(); // its abort cannot reach the service either: the store remembers it

        // Through the shared gateway: the previous object, and the unfinished upload beside it.
        await using (var stored = await _store.OpenReadAsync(_backup, default))
        {
            using var reader = new StreamReader(stored!.Content);
            Assert.Equal("previous", await reader.ReadToEndAsync());
        }
        var unfinished = await _plain.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = _bucket.Name });
        Assert.Single(unfinished.MultipartUploads ?? []);

        await gateway.RestartAsync();
        await using (var third = await store.BeginUploadAsync(_backup, default))
        {
            await third.Content.WriteAsync("next"u8.ToArray());
            await third.CommitAsync(new string('c', 64), default);
        }
        unfinished = await _plain.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = _bucket.Name });
        Assert.Empty(unfinished.MultipartUploads ?? []); // aborted at once, not left for six hours
    }

    [Fact]
    public async Task AnArchiveOfMorePartsThanS3AllowsFailsSayingWhatToRaiseAndLeavesNothing()
    {
        // S3's limit is 10,000 parts; two here take the same path.
        await using (var upload = new S3MultipartUpload(_plain, _bucket.Name, _backup.Key, partSize: 5 << 20, parallel: 2, maxParts: 2))
        {
            var e = Assert.Throws<Wsd.Errors.WsdException>(() => upload.Write(SampleTree.Pattern(16 << 20)));
            Assert.Equal($"cannot upload {_backup.Qualified}: it is larger than 2 parts of 5 MiB, the most one S3 upload may have; raise content.storage.s3.partSizeMiB", e.Message);
        }

        Assert.Empty(await Keys());
        Assert.Empty(await UnfinishedParts());
    }

    [Fact]
    public async Task AnObjectWithoutADigestReadsAsUnverified()
    {
        await _plain.PutObjectAsync(new PutObjectRequest { BucketName = _bucket.Name, Key = _backup.Key, ContentBody = "from elsewhere", UseChunkEncoding = false });

        await using var stored = await _store.OpenReadAsync(_backup, default);
        Assert.NotNull(stored);
        Assert.Null(stored.Sha256);
    }

    [Theory]
    [InlineData("wsd-digest-v1 sha256:0000 length:8\n")] // not a digest
    [InlineData("wsd-digest-v1 sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa length:7\n")] // not where it says it is
    [InlineData("")] // no trailer at all: truncated, or replaced by something else
    public async Task AnObjectMarkedForATrailerWithoutAValidOneIsDamaged(string trailer)
    {
        byte[] block = new byte[512];
        System.Text.Encoding.ASCII.GetBytes(trailer, block);
        await PutMarkedForATrailer([.. "content!"u8.ToArray(), .. trailer.Length == 0 ? [] : block]);

        var error = await Assert.ThrowsAsync<Wsd.Errors.WsdException>(() => _store.OpenReadAsync(_backup, default));

        Assert.Equal(Wsd.Errors.ErrorCode.DataLoss, error.Code);
        Assert.Contains("is damaged", error.Message);
    }

    [Fact]
    public async Task AnObjectWithAValidTrailerReadsWithoutIt()
    {
        byte[] content = SampleTree.Pattern(1000);
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
        byte[] block = new byte[512];
        System.Text.Encoding.ASCII.GetBytes($"wsd-digest-v1 sha256:{sha256} length:{content.Length}\n", block);
        await PutMarkedForATrailer([.. content, .. block]);

        await using var stored = await _store.OpenReadAsync(_backup, default);
        using var copy = new MemoryStream();
        await stored!.Content.CopyToAsync(copy);

        Assert.Equal(sha256, stored.Sha256);
        Assert.Equal(content, copy.ToArray());
    }

    [Fact]
    public async Task ALogLargerThanOnePartIsStoredExactlyAsWritten()
    {
        byte[] log = SampleTree.Pattern(7 << 20);
        await using (var upload = await _store.BeginUploadAsync(_backup, ObjectContent.Other, default))
        {
            await upload.Content.WriteAsync(log);
            await upload.CommitAsync(Convert.ToHexStringLower(SHA256.HashData(log)), default);
        }

        Assert.Equal(log, await RawObject());
        var head = await _plain.GetObjectMetadataAsync(_bucket.Name, _backup.Key);
        Assert.DoesNotContain("x-amz-meta-wsd-digest", head.Metadata.Keys);
    }
}
