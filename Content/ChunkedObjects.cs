using System.Security.Cryptography;
using Wsd.Errors;
using Wsd.Storage;
using Wsd.Storage.Chunked;

namespace Wsd.Content;

/// <summary>
/// What backups and restores need to know of chunked objects (docs/chunked-backups.md): whose packs
/// an object's chunks are in, what a previous backup already stored, and reading a manifest whole.
/// </summary>
public static class ChunkedObjects
{
    /// <summary>
    /// The packs of the owner an object belongs to, the first part of its key
    /// (docs/compatibility.md#object-names): a chunked object's chunks are that owner's.
    /// </summary>
    public static IPackStore PacksOf(IObjectStore store, ObjectLocation location) =>
        new ObjectStorePackStore(store, location.Key[..Math.Max(0, location.Key.IndexOf('/'))]);

    /// <summary>
    /// The chunks the object under <paramref name="location"/> names, when it is a chunked backup:
    /// what the next backup of it need not store again. Empty for none, a tar archive, or one that
    /// cannot be read (a backup must not fail because its predecessor is damaged; it stores
    /// everything again instead).
    /// </summary>
    public static async Task<Dictionary<ChunkId, ChunkRef>> KnownChunksAsync(IObjectStore store, ObjectLocation location, IPackStore packs,
        ILogger log, CancellationToken cancellationToken)
    {
        var known = new Dictionary<ChunkId, ChunkRef>();
        try
        {
            await using var stored = await store.OpenReadAsync(location, cancellationToken);
            if (stored is null)
                return known;
            var (_, manifest) = await ReadHeadAsync(stored, location, cancellationToken);
            if (manifest is null)
                return known;
            foreach (var piece in manifest.Recipe)
                known[piece.Entry.Id] = piece;
            foreach (var piece in await Task.Run(() => ChunkedRestoreStream.ReadRecipe(packs, manifest, location.Qualified), cancellationToken))
                known[piece.Entry.Id] = piece;
        }
        catch (WsdException e) when (e.Code is ErrorCode.DataLoss)
        {
            log.LogWarning("the previous backup {object} cannot be read ({error}); this backup stores all its chunks again", location.Qualified, e.Message);
            known.Clear();
        }
        return known;
    }

    /// <summary>
    /// The object's first bytes, as many as a manifest's preamble, and the manifest when they open
    /// one (read whole and checked against the stored digest); for a tar archive, the bytes to put
    /// back in front of the rest.
    /// </summary>
    public static async Task<(byte[] Head, ChunkedManifest? Manifest)> ReadHeadAsync(StoredObject stored, ObjectLocation location,
        CancellationToken cancellationToken)
    {
        byte[] head = await ReadUpToAsync(stored.Content, ChunkedManifest.Preamble.Length, cancellationToken);
        return (head, ChunkedManifest.IsManifest(head) ? await ReadManifestAsync(stored, head, location, cancellationToken) : null);
    }

    static async Task<ChunkedManifest> ReadManifestAsync(StoredObject stored, byte[] head, ObjectLocation location, CancellationToken cancellationToken)
    {
        if (stored.Length > ChunkedManifest.MaxBytes)
            throw new WsdException(ErrorCode.DataLoss, $"{location.Qualified} is damaged: it is marked as a chunked-backup manifest, and is {stored.Length} bytes, more than a manifest may be");
        byte[] rest = await ReadUpToAsync(stored.Content, (int)stored.Length - head.Length, cancellationToken);
        byte[] bytes = [.. head, .. rest];
        stored.RequireDigest(Convert.ToHexStringLower(SHA256.HashData(bytes)), location);
        return ChunkedManifest.Parse(bytes, location.Qualified);
    }

    // Up to count bytes: fewer only where the stream ends.
    static async Task<byte[]> ReadUpToAsync(Stream stream, int count, CancellationToken cancellationToken)
    {
        var bytes = new byte[Math.Max(0, count)];
        int got = await stream.ReadAtLeastAsync(bytes, bytes.Length, throwOnEndOfStream: false, cancellationToken);
        return got == bytes.Length ? bytes : bytes[..got];
    }
}
