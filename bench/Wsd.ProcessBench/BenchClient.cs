using System.Diagnostics;
using Wsd.Api.ContentService;
using Wsd.Api.WsDaemon;

namespace Wsd.ProcessBench;

/// <summary>What the daemon benchmarks share: requests, waiting for the daemon, timing.</summary>
static class BenchClient
{
    public static InitWorkspaceRequest Empty(string id, string? meta = null) => new()
    {
        Id = id,
        Metadata = new WorkspaceMetadata { Owner = "bench", MetaId = meta ?? id },
        Initializer = new WorkspaceInitializer { Empty = new EmptyInitializer() },
    };

    public static async Task WaitReady(WorkspaceContentService.WorkspaceContentServiceClient client)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "probe" });
                return;
            }
            catch (Grpc.Core.RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    public static async Task<double> Time(Func<Task> operation)
    {
        var clock = Stopwatch.StartNew();
        await operation();
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>A field of /proc/PID/status in bytes (VmRSS, VmHWM).</summary>
    public static long Memory(int pid, string field) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith(field + ":", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024).FirstOrDefault(-1);

    /// <summary>The given percentile of timings in seconds.</summary>
    public static double Percentile(List<double> seconds, int percentile)
    {
        var sorted = seconds.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1)];
    }

    public static string Ms(List<double> seconds, int percentile) => $"{Percentile(seconds, percentile) * 1000:F2} ms";
}
