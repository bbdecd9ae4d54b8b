using System.Diagnostics;
using Grpc.Net.Client;
using Wsd.Api.Iws;
using Wsd.Api.WsDaemon;

namespace Wsd.ProcessBench;

/// <summary>
/// Latency of the in-workspace calls over a workspace's daemon.sock against a container of real
/// namespaces, beside the same kernel work done directly: WriteIDMapping vs writing uid_map from
/// this process, MountProc vs <c>nsenter --mount --pid mount -t proc</c> (a process per mount, as
/// wsd's helper is). WriteIDMapping allows 4 calls at once per workspace, so the calls are spread
/// over workspaces that all name the one container.
/// </summary>
static class IwsBench
{
    public static async Task RunAsync(string root, int calls, Report report)
    {
        string cgroupRoot = File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(' '))
            .First(f => Array.IndexOf(f, "-") is var d && d > 0 && f[d + 1] == "cgroup2")[4];
        string dir = Directory.CreateTempSubdirectory("wsd-iws-bench-").FullName;
        string rootfs = Path.Combine(dir, "rootfs");
        foreach (var sub in (string[])["bin", "proc", "dev", "run", "mnt"])
            Directory.CreateDirectory(Path.Combine(rootfs, sub));
        for (int i = 0; i < 2 * calls; i++)
            Directory.CreateDirectory(Path.Combine(rootfs, "mnt", $"p{i}"));
        File.Copy("/usr/bin/busybox", Path.Combine(rootfs, "bin", "busybox"));
        foreach (var applet in (string[])["sh", "sleep", "unshare", "mount", "umount", "rmdir", "seq"])
            File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        File.WriteAllBytes(Path.Combine(rootfs, "dev", "null"), []);
        // One child per mapping to write (a map is written once), each in a user namespace of its own.
        File.WriteAllText(Path.Combine(rootfs, "init.sh"),
            "umount -l /.oldroot && rmdir /.oldroot && mount -t proc proc /proc || exit 1\n" +
            $"for i in $(seq {2 * calls}); do unshare -U sleep 100000 & echo $! >> /run/children; done\n" +
            "echo done > /run/ready\nexec sleep 100000\n");
        File.WriteAllText(Path.Combine(dir, "enter.sh"),
            $"set -e\nmount --make-rprivate /\nmount --bind {rootfs} {rootfs}\nmount --bind /dev/null {rootfs}/dev/null\n" +
            $"cd {rootfs}\nmkdir -p .oldroot\npivot_root . .oldroot\nexec /bin/busybox sh /init.sh\n");
        string cgroup = Path.Combine(cgroupRoot, "wsd-iws-bench");
        Directory.CreateDirectory(cgroup);
        var container = Process.Start(new ProcessStartInfo("sh", ["-c", $"echo $$ > {cgroup}/cgroup.procs && exec unshare --pid --mount --uts --ipc --net --fork --kill-child sh {dir}/enter.sh"]))!;
        Process? daemon = null;
        try
        {
            while (!File.Exists(Path.Combine(rootfs, "run", "ready")))
                await Task.Delay(50);
            int init = File.ReadAllText($"/proc/{container.Id}/task/{container.Id}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).Single();
            int[] children = File.ReadAllLines(Path.Combine(rootfs, "run", "children")).Select(int.Parse).ToArray();
            int[] hostChildren = HostPids(init, children);

            int workspaces = (calls + 3) / 4;
            string pids = Path.Combine(dir, "containers");
            Directory.CreateDirectory(pids);
            var (config, port) = Daemon.ProcessRuntimeConfig(dir, pids, cgroupRoot);
            daemon = Daemon.Aot(root).Start(dir, config);
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
            var content = new WorkspaceContentService.WorkspaceContentServiceClient(channel);
            await BenchClient.WaitReady(content);
            for (int w = 0; w < workspaces; w++)
            {
                await content.InitWorkspaceAsync(BenchClient.Empty($"ws-{w}"));
                File.WriteAllText(Path.Combine(pids, $"ws-{w}.pid"), $"{init}\n");
            }
            var sockets = Enumerable.Range(0, workspaces).Select(w => Wsd.Runtime.UnixSocketChannel.Create(Path.Combine(dir, "area", $"ws-{w}-daemon", "daemon.sock"))).ToArray();

            var idmap = new List<double>();
            for (int i = 0; i < calls; i++)
            {
                var request = new WriteIDMappingRequest { Pid = children[i] };
                request.Mapping.Add(new WriteIDMappingRequest.Types.Mapping { ContainerId = 0, HostId = 33333, Size = 1 });
                var client = new InWorkspaceService.InWorkspaceServiceClient(sockets[i / 4]);
                idmap.Add(await BenchClient.Time(async () => await client.WriteIDMappingAsync(request)));
            }
            var direct = new List<double>();
            for (int i = calls; i < 2 * calls; i++)
                direct.Add(await BenchClient.Time(() => File.WriteAllTextAsync($"/proc/{hostChildren[i]}/uid_map", "0 33333 1\n")));

            var mountProc = new List<double>();
            var iws = new InWorkspaceService.InWorkspaceServiceClient(sockets[0]);
            for (int i = 0; i < calls; i++)
                mountProc.Add(await BenchClient.Time(async () => await iws.MountProcAsync(new MountProcRequest { Target = $"/mnt/p{i}", Pid = 1 })));
            var nsenter = new List<double>();
            for (int i = calls; i < 2 * calls; i++)
            {
                nsenter.Add(await BenchClient.Time(async () =>
                {
                    using var p = Process.Start("nsenter", ["--target", init.ToString(), "--mount", "--pid", "mount", "-t", "proc", "proc", $"/mnt/p{i}"])!;
                    await p.WaitForExitAsync();
                }));
            }

            Console.WriteLine();
            Console.WriteLine($"in-workspace calls over daemon.sock, {calls} each (AOT daemon), against the same kernel work done directly:");
            Console.WriteLine();
            Console.WriteLine("| call | p50 | p99 | peer | peer p50 | peer p99 |");
            Console.WriteLine("|---|---|---|---|---|---|");
            Console.WriteLine($"| WriteIDMapping | {BenchClient.Ms(idmap, 50)} | {BenchClient.Ms(idmap, 99)} | write of uid_map from this process | {BenchClient.Ms(direct, 50)} | {BenchClient.Ms(direct, 99)} |");
            Console.WriteLine($"| MountProc (masked, moved in) | {BenchClient.Ms(mountProc, 50)} | {BenchClient.Ms(mountProc, 99)} | nsenter --mount --pid mount -t proc (unmasked) | {BenchClient.Ms(nsenter, 50)} | {BenchClient.Ms(nsenter, 99)} |");
            report.Add("in-workspace", "WriteIDMapping p50", BenchClient.Ms(idmap, 50), "uid_map write from the bench", BenchClient.Ms(direct, 50), BenchClient.Percentile(idmap, 50) / BenchClient.Percentile(direct, 50));
            report.Add("in-workspace", "MountProc p50 (masked)", BenchClient.Ms(mountProc, 50), "nsenter mount -t proc", BenchClient.Ms(nsenter, 50), BenchClient.Percentile(mountProc, 50) / BenchClient.Percentile(nsenter, 50));
            foreach (var socket in sockets)
                socket.Dispose();
        }
        finally
        {
            File.WriteAllText(Path.Combine(cgroup, "cgroup.kill"), "1");
            await container.WaitForExitAsync();
            daemon?.Kill();
            if (daemon is not null)
                await daemon.WaitForExitAsync();
            for (int tries = 0; tries < 100 && Directory.Exists(cgroup); tries++)
            {
                try
                {
                    foreach (var sub in Directory.EnumerateDirectories(cgroup, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length))
                        Directory.Delete(sub);
                    Directory.Delete(cgroup);
                }
                catch (IOException)
                {
                    await Task.Delay(50);
                }
            }
            Directory.Delete(dir, recursive: true);
        }
    }

    static int[] HostPids(int init, int[] inContainer)
    {
        var byNsPid = new Dictionary<int, int>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{init}/task"))
        {
            foreach (var child in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse))
            {
                string nsPid = File.ReadLines($"/proc/{child}/status").First(l => l.StartsWith("NSpid:"))["NSpid:".Length..];
                byNsPid[int.Parse(nsPid.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[^1])] = child;
            }
        }
        return inContainer.Select(p => byNsPid[p]).ToArray();
    }
}
