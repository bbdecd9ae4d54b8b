using Wsd.Observability.Metrics;

namespace Wsd.Observability;

/// <summary>
/// Metrics of content work: wsd's own under <c>wsd_</c>, and upstream's names beside them where
/// upstream had them (docs/compatibility.md#metric-names), so existing dashboards keep working.
/// </summary>
public sealed class ContentMetrics
{
    static readonly double[] WaitBuckets = [5, 10, 30, 60, 120, 180, 300, 600, 1800];
    static readonly double[] ThroughputBuckets = [.. Enumerable.Range(0, 15).Select(k => (double)(1L << 20 << k))];
    static readonly double[] DurationBuckets = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600];

    readonly HistogramFamily _initializerBytesPerSecond, _wsdInitializerBytesPerSecond;
    readonly HistogramFamily _backupWait, _wsdBackupWait;
    readonly CounterFamily _backupWaitTimeouts;
    readonly CounterFamily _unmappedOwners;
    readonly CounterFamily _backups;
    readonly HistogramFamily _backupDuration;
    readonly CounterFamily _restores;
    readonly CounterFamily _chunkedBytesRead, _chunkedBytesUnread, _chunkedBytesStored, _chunkedChunks;

    public ContentMetrics(MetricRegistry registry)
    {
        _initializerBytesPerSecond = registry.Register(new HistogramFamily("gitpod_ws_daemon_initializer_bytes_second",
            "Initializer throughput in bytes per second, by initializer kind.", ThroughputBuckets, "kind"));
        _backupWait = registry.Register(new HistogramFamily("gitpod_ws_daemon_concurrent_backup_waiting_seconds",
            "Time a backup or snapshot waited for one of the concurrent upload slots.", WaitBuckets));
        _backupWaitTimeouts = registry.Register(new CounterFamily("gitpod_ws_daemon_concurrent_backup_waiting_timeout_total",
            "Backups and snapshots refused because no upload slot freed up in time."));
        _unmappedOwners = registry.Register(new CounterFamily("wsd_archive_unmapped_owners_total",
            "Archived entries whose host owner was outside the workspace's ID mapping and got the fallback owner."));
        _wsdInitializerBytesPerSecond = registry.Register(new HistogramFamily("wsd_initializer_bytes_per_second",
            "Content initializer throughput in bytes per second, by initializer kind (git, snapshot, fromBackup, prebuild, composite).", ThroughputBuckets, "kind"));
        _wsdBackupWait = registry.Register(new HistogramFamily("wsd_backup_waiting_seconds",
            "Time a backup or snapshot waited for one of the content.backup.maxConcurrent upload slots.", WaitBuckets));
        _backups = registry.Register(new CounterFamily("wsd_backups_total",
            "Backups and snapshots uploaded, by kind (backup, snapshot) and result (ok, failed).", "kind", "result"));
        _backupDuration = registry.Register(new HistogramFamily("wsd_backup_duration_seconds",
            "Time from a backup or snapshot's start (its wait for a slot included) to its commit or failure.", DurationBuckets, "kind", "result"));
        _restores = registry.Register(new CounterFamily("wsd_restores_total",
            "Workspace contents restored from an archive, by kind (backup: the workspace's own; snapshot) and result (ok, failed).", "kind", "result"));
        _chunkedBytesRead = registry.Register(new CounterFamily("wsd_chunked_backup_read_bytes_total",
            "Bytes of tar stream chunked backups and snapshots read from workspaces."));
        _chunkedBytesUnread = registry.Register(new CounterFamily("wsd_chunked_backup_unread_bytes_total",
            "Bytes of unchanged large files chunked backups and snapshots named from the files cache without reading them."));
        _chunkedBytesStored = registry.Register(new CounterFamily("wsd_chunked_backup_stored_bytes_total",
            "Bytes chunked backups and snapshots sent to storage: new chunks, pack tables and manifests."));
        _chunkedChunks = registry.Register(new CounterFamily("wsd_chunked_backup_chunks_total",
            "Chunks of chunked backups and snapshots, by state: new (stored) or reused (already stored).", "state"));
    }

    /// <summary>One chunked backup's figures (docs/chunked-backups.md).</summary>
    /// <param name="streamBytes">The tar stream's length, <paramref name="unreadBytes"/> included.</param>
    public void ChunkedBackup(long streamBytes, long unreadBytes, long bytesStored, long chunksNew, long chunksReused)
    {
        _chunkedBytesRead.WithLabels().Inc(streamBytes - unreadBytes);
        _chunkedBytesUnread.WithLabels().Inc(unreadBytes);
        _chunkedBytesStored.WithLabels().Inc(bytesStored);
        _chunkedChunks.WithLabels("new").Inc(chunksNew);
        _chunkedChunks.WithLabels("reused").Inc(chunksReused);
    }

    public void InitializerFinished(string kind, double seconds, ulong bytes)
    {
        if (seconds <= 0)
            return;
        _initializerBytesPerSecond.WithLabels(kind).Observe(bytes / seconds);
        _wsdInitializerBytesPerSecond.WithLabels(kind).Observe(bytes / seconds);
    }

    public void BackupSlotWaited(TimeSpan waited)
    {
        _backupWait.WithLabels().Observe(waited.TotalSeconds);
        _wsdBackupWait.WithLabels().Observe(waited.TotalSeconds);
    }

    public void BackupSlotTimedOut() => _backupWaitTimeouts.WithLabels().Inc();

    public void UnmappedOwners(long count) => _unmappedOwners.WithLabels().Inc(count);

    public void Uploaded(string kind, bool succeeded, TimeSpan took)
    {
        string result = succeeded ? "ok" : "failed";
        _backups.WithLabels(kind, result).Inc();
        _backupDuration.WithLabels(kind, result).Observe(took.TotalSeconds);
    }

    public void Restored(string kind, bool succeeded) => _restores.WithLabels(kind, succeeded ? "ok" : "failed").Inc();
}
