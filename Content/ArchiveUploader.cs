using Wsd.Archive;
using Wsd.Archive.Streams;
using Wsd.Observability;
using Wsd.Storage;

namespace Wsd.Content;

/// <summary>
/// Backs a content directory up as one object: archive → SHA-256 → storage, streaming, no temporary
/// copy of the archive (docs/decisions.md#archives). The object appears only when complete; a failure
/// leaves the previous one in place. Three attempts, 1 s then 2 s apart
/// (docs/compatibility.md#backups-and-snapshots).
/// </summary>
public sealed class ArchiveUploader(IdMap uids, IdMap gids, BackupLimiter limiter, ContentMetrics metrics, ILogger<ArchiveUploader> log,
    Config.BackupFormat format = Config.BackupFormat.Tar, int chunkCompression = -1)
{
    const int Attempts = 3;

    /// <param name="filesCache">
    /// Where this workspace's files cache lives, for a chunked backup (docs/chunked-backups.md,
    /// "Files cache"): read before, replaced after a backup that succeeded. Null for none.
    /// </param>
    public async Task<ArchiveStats> UploadAsync(string contentDirectory, IObjectStore store, ObjectLocation location, CancellationToken cancellationToken,
        ContentProgress.Tracker? progress = null, string? filesCache = null)
    {
        using var slot = await limiter.AcquireAsync(cancellationToken);
        ReadyMarker.Remove(contentDirectory); // never part of a backup (docs/compatibility.md#ready-marker)
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await UploadOnceAsync(contentDirectory, store, location, progress, filesCache, cancellationToken);
            }
            catch (Exception e) when (attempt < Attempts && StorageFaults.IsConnectionFault(e) && !Linux.FilesystemFaults.IsFilesystemFault(e))
            {
                log.LogWarning("upload of {object} failed (attempt {attempt}), retrying: {error}", location.Qualified, attempt, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1 << (attempt - 1)), cancellationToken);
            }
        }
    }

    async Task<ArchiveStats> UploadOnceAsync(string contentDirectory, IObjectStore store, ObjectLocation location, ContentProgress.Tracker? progress,
        string? filesCache, CancellationToken cancellationToken)
    {
        var stats = progress?.NewRun() ?? new ArchiveStats();
        // A huge directory's sorted names spill into the working area (on disk, outside the workspace and its quota), not a tmpfs /tmp that counts as memory.
        // Half the command's listing budget: the daemon runs up to five of these beside its own 40 MiB.
        var options = new ArchiveWriteOptions
        {
            Uids = uids, Gids = gids, Progress = stats, ListingMemoryBytes = 4 << 20, SpillDirectory = Path.GetDirectoryName(Path.GetFullPath(contentDirectory)),
        };
        if (format == Config.BackupFormat.Chunked)
        {
            await UploadChunkedAsync(contentDirectory, store, location, options, filesCache, cancellationToken);
        }
        else
        {
            await using var upload = await store.BeginUploadAsync(location, cancellationToken);
            using var hashed = new Sha256Stream(upload.Content, leaveOpen: true);
            await Task.Run(() => ArchiveWriter.Write(contentDirectory, hashed, options), cancellationToken);
            await upload.CommitAsync(hashed.HexDigest(), cancellationToken);
        }
        if (stats.UnmappedOwners > 0)
        {
            metrics.UnmappedOwners(stats.UnmappedOwners);
            log.LogWarning("{count} entries of {object} had owners outside the workspace's ID mapping and were archived as {fallback}, e.g. {sample}",
                stats.UnmappedOwners, location.Qualified, uids.Fallback, string.Join(", ", stats.UnmappedSample));
        }
        return stats;
    }

    // The tar stream goes through the chunker; chunks the previous backup of this object stored are
    // only named, new ones are packed and stored, and the manifest is written under the object's
    // name last, after every pack it names (docs/chunked-backups.md). Large files the files cache
    // knows, unchanged and with their chunks among those, are not read at all.
    async Task UploadChunkedAsync(string contentDirectory, IObjectStore store, ObjectLocation location, ArchiveWriteOptions options,
        string? filesCachePath, CancellationToken cancellationToken)
    {
        long started = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100; // before the first stat: what changed from here on is not trusted
        var packs = ChunkedObjects.PacksOf(store, location);
        var known = await ChunkedObjects.KnownChunksAsync(store, location, packs, log, cancellationToken);
        var cache = filesCachePath is null ? null : FilesCacheFile.Read(filesCachePath, log);
        using var chunked = new Storage.Chunked.ChunkedBackupWriter(packs, known,
            Storage.Chunked.ChunkedBackupOptions.Default with { ZstdLevel = chunkCompression }, cache, cancellationToken);
        var manifest = await Task.Run(() =>
        {
            ArchiveWriter.Write(contentDirectory, chunked, options);
            return chunked.Complete();
        }, cancellationToken);
        byte[] bytes = manifest.ToBytes();
        Errors.CrashPoints.Pass(Errors.CrashPoints.ChunkedBeforeManifest);
        await using (var upload = await store.BeginUploadAsync(location, ObjectContent.Other, cancellationToken))
        {
            await upload.Content.WriteAsync(bytes, cancellationToken);
            await upload.CommitAsync(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), cancellationToken);
        }
        Errors.CrashPoints.Pass(Errors.CrashPoints.ChunkedManifestCommitted);
        if (filesCachePath is not null)
            FilesCacheFile.Write(filesCachePath, chunked.FilesSeen(started), log);
        var s = chunked.Stats;
        long storedBytes = s.BytesSent + bytes.Length;
        metrics.ChunkedBackup(s.BytesRead, s.BytesUnread, storedBytes, s.ChunksNew, s.ChunksReused);
        log.LogInformation("chunked backup {object}: {read} bytes of tar stream ({unread} of them named from the files cache, not read), {new} chunks new and {reused} reused, {packs} packs and {sent} bytes stored",
            location.Qualified, s.BytesRead, s.BytesUnread, s.ChunksNew, s.ChunksReused, s.PacksWritten, storedBytes);
    }
}
