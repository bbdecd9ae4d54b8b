using System.Collections.Concurrent;
using Wsd.Errors;

namespace Wsd.Services.Interceptors;

/// <summary>
/// The rate limits and once-only rules of one workspace's server (docs/compatibility.md#rate-limits),
/// shared by every caller on that workspace's socket: a "once" method is spent by its first call, even a
/// failed one, until the server is started anew; a limited method draws from a token bucket and is never
/// queued.
/// </summary>
public sealed class WorkspaceCallLimits(TimeProvider clock)
{
    const string Iws = "/iws.InWorkspaceService/";

    static readonly HashSet<string> Once = [Iws + "PrepareForUserNS", Iws + "EvacuateCGroup", Iws + "Teardown"];

    static readonly Dictionary<string, (int Burst, TimeSpan Refill)> Buckets = new()
    {
        [Iws + "WriteIDMapping"] = (4, TimeSpan.FromSeconds(2.5)),
        [Iws + "WipingTeardown"] = (4, TimeSpan.FromSeconds(2.5)),
        [Iws + "WorkspaceInfo"] = (4, TimeSpan.FromSeconds(1.5)),
        ["/iws.WorkspaceInfoService/WorkspaceInfo"] = (4, TimeSpan.FromSeconds(1.5)),
    };

    /// <summary>
    /// Calls that each start a root helper process (beyond upstream, which left them unlimited):
    /// one bucket for all of them, so alternating between them gains nothing. Workspacekit makes a
    /// few at start and one per nested container, which the burst covers.
    /// </summary>
    static readonly HashSet<string> Mounts =
        [Iws + "MountProc", Iws + "UmountProc", Iws + "MountSysfs", Iws + "UmountSysfs", Iws + "MountNfs", Iws + "UmountNfs"];

    static readonly (int Burst, TimeSpan Refill) MountRule = (8, TimeSpan.FromSeconds(1));

    const string MountBucket = "mount calls";

    readonly ConcurrentDictionary<string, byte> _spent = new();
    readonly ConcurrentDictionary<string, TokenBucket> _buckets = new();

    /// <summary>RESOURCE_EXHAUSTED when <paramref name="method"/> may not run now.</summary>
    public void Admit(string method)
    {
        if (Once.Contains(method) && !_spent.TryAdd(method, 0))
            throw new WsdException(ErrorCode.ResourceExhausted, $"{Name(method)} can be used only once");
        if (Buckets.TryGetValue(method, out var rule)
            && !_buckets.GetOrAdd(method, _ => new TokenBucket(rule.Burst, rule.Refill, clock)).TryTake())
            throw new WsdException(ErrorCode.ResourceExhausted,
                $"too many requests: {Name(method)} allows {rule.Burst} at once and one more every {rule.Refill.TotalSeconds:0.#} s");
        if (Mounts.Contains(method)
            && !_buckets.GetOrAdd(MountBucket, _ => new TokenBucket(MountRule.Burst, MountRule.Refill, clock)).TryTake())
            throw new WsdException(ErrorCode.ResourceExhausted,
                $"too many requests: {Name(method)} shares a limit with the other mount and unmount calls of this workspace, " +
                $"{MountRule.Burst} at once and one more every {MountRule.Refill.TotalSeconds:0.#} s");
    }

    static string Name(string method) => method[(method.LastIndexOf('/') + 1)..];

    sealed class TokenBucket(int burst, TimeSpan refill, TimeProvider clock)
    {
        readonly Lock _lock = new();
        double _tokens = burst;
        long _last = clock.GetTimestamp();

        public bool TryTake()
        {
            lock (_lock)
            {
                long now = clock.GetTimestamp();
                _tokens = Math.Min(burst, _tokens + clock.GetElapsedTime(_last, now) / refill);
                _last = now;
                if (_tokens < 1)
                    return false;
                _tokens--;
                return true;
            }
        }
    }
}
