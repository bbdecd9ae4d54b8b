using Wsd.Observability.Metrics;

namespace Wsd.Observability;

/// <summary>Metrics of content work, under upstream's names where upstream had them (REF §8.4).</summary>
public sealed class ContentMetrics
{
    static readonly double[] WaitBuckets = [5, 10, 30, 60, 120, 180, 300, 600, 1800];
    static readonly double[] ThroughputBuckets = [.. Enumerable.Range(0, 15).Select(k => (double)(1L << 20 << k))];

    readonly HistogramFamily _initializerBytesPerSecond;
    readonly HistogramFamily _backupWait;
    readonly CounterFamily _backupWaitTimeouts;
    readonly CounterFamily _unmappedOwners;
    readonly CounterFamily _uploads;

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
        _uploads = registry.Register(new CounterFamily("wsd_content_uploads_total",
            "Backups and snapshots by outcome.", "kind", "result"));
    }

    public void InitializerFinished(string kind, double seconds, ulong bytes)
    {
        if (seconds > 0)
            _initializerBytesPerSecond.WithLabels(kind).Observe(bytes / seconds);
    }

    public void BackupSlotWaited(TimeSpan waited) => _backupWait.WithLabels().Observe(waited.TotalSeconds);

    public void BackupSlotTimedOut() => _backupWaitTimeouts.WithLabels().Inc();

    public void UnmappedOwners(long count) => _unmappedOwners.WithLabels().Inc(count);

    public void Upload(string kind, bool succeeded) => _uploads.WithLabels(kind, succeeded ? "ok" : "failed").Inc();
}
