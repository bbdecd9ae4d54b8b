namespace Wsd.Storage;

/// <summary>
/// Gives the memory of finished uploads' part buffers and reads' range buffers back to the system:
/// S3's, and a chunked backup's packs and tables.
/// They are large-object-heap arrays (megabytes each), which the GC collects only in a full
/// collection; between a daemon's occasional backups it rarely runs one, so the garbage of each
/// backup and restore piled up: a daemon that needed 150 MiB for one backup and one restore was
/// measured at 340 MiB after three of each (docs/platform.md#ceph-rgw-in-tests). One full,
/// compacting collection shortly after such buffers are dropped returns it: the daemon's own heap
/// is a few MiB, so it pauses for milliseconds. Drops within a second share one collection, for the
/// whole process.
/// </summary>
public sealed class LargeBufferRelease
{
    public static LargeBufferRelease Shared { get; } = new();

    LargeBufferRelease()
    {
    }

    int _scheduled;

    /// <summary>Called when an upload or a read lets go of its buffers.</summary>
    public void Dropped()
    {
        if (Interlocked.Exchange(ref _scheduled, 1) == 1)
            return;
        _ = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            Volatile.Write(ref _scheduled, 0);
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        });
    }
}
