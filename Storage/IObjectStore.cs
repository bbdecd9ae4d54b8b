namespace Wsd.Storage;

/// <summary>
/// Remote storage for backups and snapshots. An upload is written to the store as it streams and
/// becomes visible under its name only when committed; an upload disposed without a commit leaves
/// nothing behind, so a reader never sees a partial object (docs/decisions.md#storage).
/// </summary>
public interface IObjectStore
{
    /// <summary>The bucket objects go to (one shared bucket, docs/compatibility.md#object-names).</summary>
    string Bucket { get; }

    Task<IObjectUpload> BeginUploadAsync(ObjectLocation location, ObjectContent content, CancellationToken cancellationToken);

    /// <summary>The object, or null when there is none.</summary>
    Task<StoredObject?> OpenReadAsync(ObjectLocation location, CancellationToken cancellationToken);

    /// <summary>
    /// Fills <paramref name="destination"/> with the object's bytes from <paramref name="offset"/>
    /// and answers how many it got: fewer only where the object ends first; null when there is no
    /// such object. For packs, which are read in ranges into buffers a restore reuses
    /// (docs/chunked-backups.md).
    /// </summary>
    Task<int?> ReadRangeAsync(ObjectLocation location, long offset, Memory<byte> destination, CancellationToken cancellationToken);
}

public static class ObjectStores
{
    /// <summary>The store a configuration names: the daemon's, and the one <c>wsd archive</c> reads for an operator.</summary>
    public static IObjectStore Open(Config.StorageConfig storage) => storage.Kind == Config.StorageKind.S3
        ? new S3.S3ObjectStore(storage.S3)
        : new LocalObjectStore(storage.Local.Root, storage.Local.Bucket);

    /// <summary>Starts the upload of a tar archive (a backup or a snapshot).</summary>
    public static Task<IObjectUpload> BeginUploadAsync(this IObjectStore store, ObjectLocation location, CancellationToken cancellationToken) =>
        store.BeginUploadAsync(location, ObjectContent.TarArchive, cancellationToken);
}

/// <summary>
/// What an object holds. A store may keep a tar archive's digest in the object after its
/// end-of-archive marker, where tar readers stop (docs/storage-publishing.md); other content is
/// stored exactly as written.
/// </summary>
public enum ObjectContent { TarArchive, Other }

/// <summary>An upload in progress: write to <see cref="Content"/>, then commit with the content's SHA-256.</summary>
public interface IObjectUpload : IAsyncDisposable
{
    Stream Content { get; }

    /// <summary>
    /// Makes the object visible under its name, with its digest stored beside it; with none (null)
    /// for an object that checks itself piece by piece, a chunked backup's pack
    /// (docs/chunked-backups.md, "Storage layout").
    /// </summary>
    Task CommitAsync(string? sha256, CancellationToken cancellationToken);
}

/// <summary>An object being read, and the SHA-256 stored with it (null when the store has none).</summary>
public sealed class StoredObject(Stream content, long length, string? sha256) : IAsyncDisposable
{
    public Stream Content { get; } = content;
    public long Length { get; } = length;
    public string? Sha256 { get; } = sha256;

    /// <summary>DATA_LOSS when the object's bytes hash to another digest than the one stored with it.</summary>
    public void RequireDigest(string digest, ObjectLocation location)
    {
        if (Sha256 is { } expected && !string.Equals(expected, digest, StringComparison.OrdinalIgnoreCase))
            throw new Errors.WsdException(Errors.ErrorCode.DataLoss, $"{location.Qualified} is damaged: its SHA-256 is {digest}, but {expected} was stored with it");
    }

    public ValueTask DisposeAsync() => Content.DisposeAsync();
}
