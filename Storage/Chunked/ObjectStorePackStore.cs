using Wsd.Errors;

namespace Wsd.Storage.Chunked;

/// <summary>
/// One owner's packs as objects of a store: <c>&lt;owner&gt;/chunks/packs/&lt;sha256&gt;</c>, written
/// the way every object is (visible only once whole), with no digest beside them: a pack's name
/// covers its table, and each chunk is checked against its ID when read.
/// </summary>
public sealed class ObjectStorePackStore(IObjectStore store, string owner) : IPackStore
{
    ObjectLocation Location(ChunkId pack) => new(store.Bucket, ObjectNames.Pack(owner, pack.ToString()));

    public async Task PutAsync(ChunkId pack, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await using var upload = await store.BeginUploadAsync(Location(pack), ObjectContent.Other, cancellationToken);
        await upload.Content.WriteAsync(bytes, cancellationToken);
        await upload.CommitAsync(null, cancellationToken);
    }

    public async Task<int> ReadAsync(ChunkId pack, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var location = Location(pack);
        int? got = await store.ReadRangeAsync(location, offset, destination, cancellationToken);
        return got ?? throw new WsdException(ErrorCode.DataLoss, $"pack {location.Qualified} is missing: a backup names it, and the store has no such object");
    }
}
