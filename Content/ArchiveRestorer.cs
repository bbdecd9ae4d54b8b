using Wsd.Archive;
using Wsd.Archive.Streams;
using Wsd.Errors;
using Wsd.Storage;

namespace Wsd.Content;

/// <summary>
/// Streams an object from storage straight into the content directory: download → SHA-256 →
/// (zstd) → extract, no temporary file. The digest stored with the object must match, or the
/// restore is DATA_LOSS and the caller discards what was extracted (docs/decisions.md#archives).
/// </summary>
public sealed class ArchiveRestorer(IObjectStore store, IdMap uids, IdMap gids, ContentProgress.Tracker? progress = null)
{
    /// <summary>False when there is no such object.</summary>
    public async Task<bool> TryRestoreAsync(ObjectLocation location, string destination, CancellationToken cancellationToken)
    {
        await using var stored = await store.OpenReadAsync(location, cancellationToken);
        if (stored is null)
            return false;
        var stats = progress?.NewRun() ?? new ArchiveStats();
        var options = new ArchiveReadOptions { Uids = uids, Gids = gids, Progress = stats };
        // Either format, whatever content.backup.format says (docs/chunked-backups.md).
        var (head, manifest) = await ChunkedObjects.ReadHeadAsync(stored, location, cancellationToken);
        if (manifest is not null)
        {
            var packs = ChunkedObjects.PacksOf(store, location);
            await Task.Run(() =>
            {
                using var chunked = new Storage.Chunked.ChunkedRestoreStream(packs, manifest, location.Qualified);
                ArchiveExtractor.Extract(chunked, destination, options);
            }, cancellationToken);
            return true;
        }
        using var hashed = new Sha256Stream(new PrefixedStream(head, stored.Content), leaveOpen: true);
        using var tar = ArchiveCompression.OpenForReading(hashed, out _);
        try
        {
            await Task.Run(() => ArchiveExtractor.Extract(tar, destination, options), cancellationToken);
        }
        catch (Exception e) when (Linux.FilesystemFaults.IsOutOfSpace(e))
        {
            // At least the archive's size: the answer tells the operator how much to free.
            e.Data[Linux.FilesystemFaults.NeededBytesKey] = stored.Length;
            throw;
        }
        stored.RequireDigest(hashed.HexDigest(), location);
        return true;
    }
}
