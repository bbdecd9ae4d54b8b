using Wsd.Errors;
using Wsd.Linux;

namespace Wsd.Workspaces;

/// <summary>
/// Keeps a nearly full node from taking on more workspaces (docs/decisions.md#quota-and-disk-guard): a
/// full disk breaks every workspace on it, so a new one is refused while free space in the working area
/// is under the configured minimum. The free space is also exported as a metric (DaemonMetrics).
/// </summary>
public sealed class DiskGuard(WorkingArea area, long minFreeBytes)
{
    /// <summary>The working area's free bytes for the metrics; NaN when statfs fails, as upstream's.</summary>
    public double FreeBytesOrNaN()
    {
        try
        {
            return FreeSpace.AvailableBytes(area.Root);
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }

    public void RequireRoomForAnotherWorkspace()
    {
        if (minFreeBytes == 0)
            return;
        long free = FreeSpace.AvailableBytes(area.Root);
        if (free < minFreeBytes)
            throw new WsdException(ErrorCode.ResourceExhausted,
                $"the working area {area.Root} has {FreeSpace.Format(free)} free, under the minimum of {FreeSpace.Format(minFreeBytes)} (content.minFreeBytes); " +
                "this node takes no new workspaces until space is freed");
    }
}
