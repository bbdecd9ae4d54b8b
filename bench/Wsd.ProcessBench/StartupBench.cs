using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using Wsd.Api.WsDaemon;

namespace Wsd.ProcessBench;

/// <summary>
/// Binary size, time from exec to the first answered RPC, and idle RSS, for the AOT binary and the
/// same program on the JIT, measured alternately in one run so both see the same machine state.
/// </summary>
static class StartupBench
{
    public static async Task RunAsync(string root, int runs, Report report)
    {
        Daemon[] daemons = [Daemon.Aot(root), Daemon.Jit(root)];
        var startup = daemons.ToDictionary(d => d.Name, _ => new List<double>());
        var idleRss = daemons.ToDictionary(d => d.Name, _ => new List<double>());
        var busyRss = daemons.ToDictionary(d => d.Name, _ => new List<double>());

        // One discarded round warms the page cache for both.
        for (int round = -1; round < runs; round++)
        {
            foreach (var daemon in daemons)
            {
                var (ms, idle, busy) = await MeasureOnce(daemon);
                if (round < 0)
                    continue;
                startup[daemon.Name].Add(ms);
                idleRss[daemon.Name].Add(idle / 1048576.0);
                busyRss[daemon.Name].Add(busy / 1048576.0);
            }
        }

        Console.WriteLine();
        Console.WriteLine($"## startup ({runs} runs each, alternating; median (min-max))");
        Console.WriteLine();
        Console.WriteLine("| | AOT | JIT | AOT/JIT |");
        Console.WriteLine("|---|---|---|---|");
        Row("shipped size (MB)", daemons[0].ShippedBytes() / 1e6, daemons[1].ShippedBytes() / 1e6, "F1");
        Row("exec to first answered RPC (ms)", startup["AOT"], startup["JIT"], "F0");
        Row("RSS idle, 2 s after the first RPC (MiB)", idleRss["AOT"], idleRss["JIT"], "F1");
        Row("RSS after 2,000 more RPCs (MiB)", busyRss["AOT"], busyRss["JIT"], "F1");
        Console.WriteLine();
        Console.WriteLine("JIT size is the published directory without the shared .NET runtime it also needs.");
        void Add(string measure, List<double> aot, List<double> jit, string unit) =>
            report.Add("start-up", measure, $"{Median(aot):F1} {unit}", "the JIT build", $"{Median(jit):F1} {unit}", Median(aot) / Median(jit));
        Add("exec to first answered RPC", startup["AOT"], startup["JIT"], "ms");
        Add("RSS idle after the first RPC", idleRss["AOT"], idleRss["JIT"], "MiB");
        Add("RSS after 2,000 more RPCs", busyRss["AOT"], busyRss["JIT"], "MiB");
    }

    static async Task<(double Milliseconds, long IdleRss, long BusyRss)> MeasureOnce(Daemon daemon)
    {
        string dir = Directory.CreateTempSubdirectory("wsd-bench-").FullName;
        try
        {
            int servicePort = Daemon.FreePort(), healthPort = Daemon.FreePort();
            string config = Path.Combine(dir, "wsd.json");
            await File.WriteAllTextAsync(config, $$"""
                { "service": { "address": "127.0.0.1:{{servicePort}}" }, "health": { "address": "127.0.0.1:{{healthPort}}" } }
                """);

            var clock = Stopwatch.StartNew();
            using var process = daemon.Start(dir, config);
            var request = new IsWorkspaceExistsRequest { Id = "bench" };
            // A fresh channel per attempt: a channel that saw a refused connection backs off for
            // about a second before it tries again, which would be measured instead of the daemon.
            while (true)
            {
                if (process.HasExited)
                    throw new InvalidOperationException($"{daemon.Name} exited with {process.ExitCode}");
                if (clock.Elapsed > TimeSpan.FromSeconds(30))
                    throw new TimeoutException($"{daemon.Name} did not answer within 30 s");
                using var attempt = GrpcChannel.ForAddress($"http://127.0.0.1:{servicePort}");
                try
                {
                    await new WorkspaceContentService.WorkspaceContentServiceClient(attempt).IsWorkspaceExistsAsync(request);
                    break;
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
                {
                    await Task.Delay(2);
                }
            }
            double ms = clock.Elapsed.TotalMilliseconds;
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{servicePort}");
            var client = new WorkspaceContentService.WorkspaceContentServiceClient(channel);

            await Task.Delay(2000);
            long idle = Daemon.RssBytes(process.Id);
            for (int i = 0; i < 2000; i++)
                await client.IsWorkspaceExistsAsync(request);
            long busy = Daemon.RssBytes(process.Id);

            process.Kill();
            await process.WaitForExitAsync();
            return (ms, idle, busy);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    static void Row(string label, List<double> aot, List<double> jit, string format) =>
        Console.WriteLine($"| {label} | {Summary(aot, format)} | {Summary(jit, format)} | {Median(aot) / Median(jit):F2} |");

    static void Row(string label, double aot, double jit, string format) =>
        Console.WriteLine($"| {label} | {aot.ToString(format)} | {jit.ToString(format)} | {aot / jit:F2} |");

    static string Summary(List<double> values, string format) =>
        $"{Median(values).ToString(format)} ({values.Min().ToString(format)}-{values.Max().ToString(format)})";

    static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        int mid = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
