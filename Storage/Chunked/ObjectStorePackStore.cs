using Wsd.Errors;

namespace Wsd.Storage.Chunked;

/// <summary>
/// One owner's packs as objects of a store: <c>&lt;owner&gt;/chunks/packs/&lt;sha256&gt;</c>, written
/// the way every object is (visible only once whole) with the pack's own name as its digest.
/// The chunk writer and the restore reader run on a thread of their own, as the tar engine does,
/// so the store's calls are waited for here.
/// </summary>
public sealed class ObjectStorePackStore(IObjectStore store, string owner) : IPackStore
{
    ObjectLocation Location(ChunkId pack) => new(store.Bucket, ObjectNames.Pack(owner, pack.ToString()));

    public void Put(ChunkId pack, ReadOnlyMemory<byte> bytes) =>
        Task.Run(async () =>
        {
            await using var upload = await store.BeginUploadAsync(Location(pack), ObjectContent.Other, CancellationToken.None);
            await upload.Content.WriteAsync(bytes);
            await upload.CommitAsync(pack.ToString(), CancellationToken.None);
        }).GetAwaiter().GetResult();

    public byte[] Read(ChunkId pack, long offset, int length)
    {
        var location = Location(pack);
        byte[]? bytes = Task.Run(() => store.ReadRangeAsync(location, offset, length, CancellationToken.None)).GetAwaiter().GetResult();
        return bytes ?? throw new WsdException(ErrorCode.DataLoss, $"pack {location.Qualified} is missing: a backup names it, and the store has no such object");
    }
}
