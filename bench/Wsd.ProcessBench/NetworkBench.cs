using System.Diagnostics;
using Grpc.Net.Client;
using Wsd.Api.Iws;
using Wsd.Api.WsDaemon;

namespace Wsd.ProcessBench;

/// <summary>
/// SetupPairVeths over daemon.sock (rtnetlink and one nf_tables batch from the daemon) beside the
/// same configuration made with iproute2 and nft through nsenter, a process per step, as a
/// daemon without its own netlink code would. Each run needs a pod of its own (a pair is made
/// once per pod): a container of a PID and a network namespace, with an <c>eth0</c>, and a child
/// in a network namespace of its own.
/// </summary>
static class NetworkBench
{
    const string Rules = """
        table ip nat {
            chain postrouting { type nat hook postrouting priority srcnat; oifname "eth0" masquerade; }
            chain prerouting { type nat hook prerouting priority dstnat; iifname "eth0" meta l4proto tcp th dport 1-65535 dnat to 10.0.5.2; }
        }
        """;

    public static async Task RunAsync(string root, int runs, Report report)
    {
        string dir = Directory.CreateTempSubdirectory("wsd-veth-bench-").FullName;
        File.WriteAllText(Path.Combine(dir, "rules.nft"), Rules);
        var pods = new List<Process>();
        Process? daemon = null;
        try
        {
            // Pods: init is PID 1 of a new PID namespace; its first child (PID 2) has its own network.
            var inits = new List<(int Init, int Inner)>();
            for (int i = 0; i < 2 * runs; i++)
            {
                var pod = Process.Start(new ProcessStartInfo("unshare", ["--pid", "--net", "--fork", "--kill-child", "sh", "-c", "unshare -n sleep 100000 & exec sleep 100000"]) { UseShellExecute = false })!;
                pods.Add(pod);
                int init = 0, inner = 0;
                while (inner == 0)
                {
                    await Task.Delay(10);
                    init = Children(pod.Id).FirstOrDefault();
                    inner = init == 0 ? 0 : Children(init).FirstOrDefault(c => File.ReadAllText($"/proc/{c}/comm").Trim() == "sleep");
                }
                Run("nsenter", "-t", init.ToString(), "-n", "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "ext0");
                Run("nsenter", "-t", init.ToString(), "-n", "ip", "link", "set", "eth0", "up");
                inits.Add((init, inner));
            }

            string pids = Path.Combine(dir, "containers");
            Directory.CreateDirectory(pids);
            var (config, port) = Daemon.ProcessRuntimeConfig(dir, pids);
            daemon = Daemon.Aot(root).Start(dir, config);
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
            var content = new WorkspaceContentService.WorkspaceContentServiceClient(channel);
            await BenchClient.WaitReady(content);

            var wsd = new List<double>();
            for (int i = 0; i < runs; i++)
            {
                await content.InitWorkspaceAsync(BenchClient.Empty($"ws-{i}"));
                File.WriteAllText(Path.Combine(pids, $"ws-{i}.pid"), $"{inits[i].Init}\n");
                using var socket = Wsd.Runtime.UnixSocketChannel.Create(Path.Combine(dir, "area", $"ws-{i}-daemon", "daemon.sock"));
                var iws = new InWorkspaceService.InWorkspaceServiceClient(socket);
                wsd.Add(await BenchClient.Time(async () => await iws.SetupPairVethsAsync(new SetupPairVethsRequest { Pid = 2 })));
            }
            var tools = new List<double>();
            for (int i = runs; i < 2 * runs; i++)
            {
                string pod = inits[i].Init.ToString(), inner = inits[i].Inner.ToString();
                tools.Add(await BenchClient.Time(() =>
                {
                    Run("nsenter", "-t", pod, "-n", "ip", "link", "add", "veth0", "mtu", "1500", "type", "veth", "peer", "name", "eth0", "netns", inner);
                    Run("nsenter", "-t", pod, "-n", "ip", "addr", "add", "10.0.5.1/30", "dev", "veth0");
                    Run("nsenter", "-t", pod, "-n", "ip", "link", "set", "veth0", "up");
                    Run("nsenter", "-t", inner, "-n", "ip", "addr", "add", "10.0.5.2/30", "dev", "eth0");
                    Run("nsenter", "-t", inner, "-n", "ip", "link", "set", "eth0", "up");
                    Run("nsenter", "-t", inner, "-n", "ip", "link", "set", "lo", "up");
                    Run("nsenter", "-t", inner, "-n", "ip", "route", "replace", "default", "via", "10.0.5.1");
                    Run("nsenter", "-t", pod, "-n", "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
                    Run("nsenter", "-t", pod, "-n", "nft", "-f", Path.Combine(dir, "rules.nft"));
                    return Task.CompletedTask;
                }));
            }

            Console.WriteLine();
            Console.WriteLine($"SetupPairVeths, {runs} pods each (AOT daemon), against the same configuration made with ip/sysctl/nft:");
            Console.WriteLine();
            Console.WriteLine("| call | p50 | p99 | peer | peer p50 | peer p99 | ratio (p50) |");
            Console.WriteLine("|---|---|---|---|---|---|---|");
            Console.WriteLine($"| SetupPairVeths over daemon.sock | {BenchClient.Ms(wsd, 50)} | {BenchClient.Ms(wsd, 99)} | 9 × nsenter ip/sysctl/nft | {BenchClient.Ms(tools, 50)} | {BenchClient.Ms(tools, 99)} | {BenchClient.Percentile(wsd, 50) / BenchClient.Percentile(tools, 50):F2} |");
            report.Add("in-workspace", "SetupPairVeths p50", BenchClient.Ms(wsd, 50), "nsenter ip/sysctl/nft", BenchClient.Ms(tools, 50), BenchClient.Percentile(wsd, 50) / BenchClient.Percentile(tools, 50));
        }
        finally
        {
            foreach (var pod in pods)
            {
                pod.Kill(entireProcessTree: true);
                await pod.WaitForExitAsync();
            }
            daemon?.Kill();
            if (daemon is not null)
                await daemon.WaitForExitAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    static void Run(string tool, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(tool, args) { UseShellExecute = false, RedirectStandardError = true })!;
        string error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)}: {error}");
    }

    static int[] Children(int pid) =>
        Directory.EnumerateDirectories($"/proc/{pid}/task")
            .SelectMany(t => File.ReadAllText(Path.Combine(t, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(int.Parse).ToArray();
}
