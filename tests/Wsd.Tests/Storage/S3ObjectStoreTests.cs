using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Wsd.Config;
using Wsd.Storage;
using Wsd.Storage.S3;
using Wsd.Tests.Support;

namespace Wsd.Tests.Storage;

/// <summary>The s3 store in-process against s3rver on loopback: what a multipart upload leaves, and when.</summary>
public sealed class S3ObjectStoreTests : IAsyncLifetime
{
    readonly TempDirectory _dir = new();
    S3Server _server = null!;
    S3ObjectStore _store = null!;
    AmazonS3Client _plain = null!;
    readonly ObjectLocation _backup = new(S3Server.Bucket, ObjectNames.Key("user-1", "ws-1", ObjectNames.Backup));

    public async ValueTask InitializeAsync()
    {
        _server = await S3Server.StartAsync(_dir.Combine("s3"));
        _store = new S3ObjectStore(new S3StorageConfig
        {
            Endpoint = _server.Endpoint, Bucket = S3Server.Bucket, AccessKey = S3Server.Key, SecretKey = S3Server.Key,
            PartSizeMiB = 5, ParallelParts = 2, RequestTimeout = TimeSpan.FromSeconds(20),
        });
        _plain = new AmazonS3Client(new BasicAWSCredentials(S3Server.Key, S3Server.Key), new AmazonS3Config { ServiceURL = _server.Endpoint, ForcePathStyle = true });
    }

    public async ValueTask DisposeAsync()
    {
        _plain.Dispose();
        _store.Dispose();
        await _server.DisposeAsync();
        _dir.Dispose();
    }

    // s3rver keeps the parts of an unfinished multipart upload as files under "<bucket>/._S3rver_uploads/<id>/".
    string[] PartsOnServer() => Directory.Exists(_dir.Combine("s3", S3Server.Bucket))
        ? Directory.EnumerateFiles(_dir.Combine("s3", S3Server.Bucket), "*", SearchOption.AllDirectories)
            .Where(f => f.Contains("uploads") && int.TryParse(Path.GetFileName(f), out _)).ToArray()
        : [];

    async Task<byte[]> RawObject()
    {
        using var response = await _plain.GetObjectAsync(S3Server.Bucket, _backup.Key);
        using var bytes = new MemoryStream();
        await response.ResponseStream.CopyToAsync(bytes);
        return bytes.ToArray();
    }

    async Task PutMarkedForATrailer(byte[] content) =>
        await _plain.PutObjectAsync(new PutObjectRequest
        {
            BucketName = S3Server.Bucket, Key = _backup.Key, InputStream = new MemoryStream(content), UseChunkEncoding = false,
            Metadata = { ["wsd-digest"] = "trailer-v1" },
        });

    async Task<List<string>> Keys() =>
        (await _plain.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3Server.Bucket })).S3Objects?.Select(o => o.Key).ToList() ?? [];

    [Fact]
    public async Task AMultipartUploadStreamsItsPartsAndAppearsWithItsDigestTrailerOnlyWhenCommitted()
    {
        byte[] data = SampleTree.Pattern(13 << 20); // parts of 5, 5 and 3 MiB
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(data));

        await using (var upload = await _store.BeginUploadAsync(_backup, default))
        {
            await upload.Content.WriteAsync(data.AsMemory(0, 11 << 20));
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (PartsOnServer().Length < 2 && DateTime.UtcNow < deadline)
                await Task.Delay(50);
            Assert.Equal(2, PartsOnServer().Length); // sent while the archive is still being written
            Assert.Null(await _store.OpenReadAsync(_backup, default));

            await upload.Content.WriteAsync(data.AsMemory(11 << 20));
            await upload.CommitAsync(sha256, default);
        }

        var head = await _plain.GetObjectMetadataAsync(S3Server.Bucket, _backup.Key);
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
        Assert.Empty(PartsOnServer());
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
        // (s3rver answers AbortMultipartUpload with 405 and keeps the parts; S3 drops them.)
    }

    [Fact]
    public async Task AnObjectWithoutADigestReadsAsUnverified()
    {
        await _plain.PutObjectAsync(new PutObjectRequest { BucketName = S3Server.Bucket, Key = _backup.Key, ContentBody = "from elsewhere", UseChunkEncoding = false });

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
        var head = await _plain.GetObjectMetadataAsync(S3Server.Bucket, _backup.Key);
        Assert.DoesNotContain("x-amz-meta-wsd-digest", head.Metadata.Keys);
    }
}
