using System.Diagnostics;
using Wsd.Errors;
using Wsd.Observability;

namespace Wsd.Content;

/// <summary>
/// At most N backups and snapshots at once (docs/decisions.md#storage; upstream 5,
/// docs/compatibility.md#backups-and-snapshots). A caller waits a bounded time for a slot, then gets
/// RESOURCE_EXHAUSTED instead of upstream's unlimited overflow.
/// </summary>
public sealed class BackupLimiter(int slots, TimeSpan maximumWait, ContentMetrics metrics)
{
    readonly SemaphoreSlim _slots = new(slots, slots);

    public async Task<IDisposable> AcquireAsync(CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        bool acquired = await _slots.WaitAsync(maximumWait, cancellationToken);
        metrics.BackupSlotWaited(Stopwatch.GetElapsedTime(started));
        if (!acquired)
        {
            metrics.BackupSlotTimedOut();
            throw new WsdException(ErrorCode.ResourceExhausted, $"all {slots} backup slots stayed busy for {maximumWait.TotalMinutes:0} minutes; try again later");
        }
        return new Slot(_slots);
    }

    sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                slots.Release();
        }
    }
}
