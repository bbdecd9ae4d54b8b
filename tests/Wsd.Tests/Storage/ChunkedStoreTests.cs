using Wsd.Errors;
using Wsd.Storage;
using Wsd.Storage.Chunked;
using Wsd.Storage.S3;
using Wsd.Tests.Support;

namespace Wsd.Tests.Storage;

/// <summary>Chunked backups through both real stores: the local one on disk and S3 against Ceph RGW.</summary>
public sealed class ChunkedStoreTests(CephRgw rgw) : IDisposable
{
    readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    async Task<IObjectStore> Store(string kind) => kind == "local"
        ? new LocalObjectStore(_dir.Combine("store"), "local")
        : new S3ObjectStore((await rgw.NewBucketAsync()).StoreConfig());

    [Theory]
    [InlineData("local")]
    [InlineData("s3")]
    public async Task RangesOfAnObjectComeBackAsStoredAndPastItsEndShort(string kind)
    {
        var store = await Store(kind);
        var location = new ObjectLocation(store.Bucket, ObjectNames.Pack("user-1", "ranges"));
        byte[] bytes = SampleTree.Pattern(100_000);
        await using (var upload = await store.BeginUploadAsync(location, ObjectContent.Other, default))
        {
            await upload.Content.WriteAsync(bytes);
            await upload.CommitAsync(new string('0', 64), default);
        }

        var range = new byte[100];
        Assert.Equal(100, await store.ReadRangeAsync(location, 1000, range, default));
        Assert.Equal(bytes[1000..1100], range);
        Assert.Equal(10, await store.ReadRangeAsync(location, 99_990, range, default));
        Assert.Equal(bytes[99_990..], range[..10]);
        Assert.Equal(0, await store.ReadRangeAsync(location, 200_000, range, default));
        Assert.Null(await store.ReadRangeAsync(location with { Key = location.Key + "-none" }, 0, range, default));
        (store as IDisposable)?.Dispose();
    }

    [Theory]
    [InlineData("local")]
    [InlineData("s3")]
    public async Task AChunkedBackupThroughTheStoreRestoresBitExactAndAMissingPackIsDataLoss(string kind)
    {
        var store = await Store(kind);
        var packs = new ObjectStorePackStore(store, "user-1");
        byte[] stream = [.. SampleTree.Pattern(3 << 20), .. System.Security.Cryptography.RandomNumberGenerator.GetBytes(1 << 20)];
        var known = new Dictionary<ChunkId, ChunkRef>();

        ChunkedManifest manifest = await Task.Run(() =>
        {
            using var writer = new ChunkedBackupWriter(packs, known, ChunkedBackupOptions.Default with { PackBytes = 1 << 20 });
            writer.Write(stream);
            return writer.Complete();
        });
        byte[] restored = await Task.Run(() =>
        {
            using var reader = new ChunkedRestoreStream(packs, manifest, "m");
            using var bytes = new MemoryStream();
            reader.CopyTo(bytes);
            return bytes.ToArray();
        });

        Assert.Equal(stream, restored);
        var missing = manifest.Recipe[0] with { Pack = ChunkId.Of("no such pack"u8) };
        var e = await Assert.ThrowsAsync<WsdException>(() => Task.Run(() => new ChunkedRestoreStream(packs, manifest with { Recipe = [missing] }, "m")));
        Assert.Equal(ErrorCode.DataLoss, e.Code);
        Assert.Contains("user-1/chunks/packs/" + ChunkId.Of("no such pack"u8) + "@", e.Message);
        Assert.Contains("is missing", e.Message);
        (store as IDisposable)?.Dispose();
    }
}
