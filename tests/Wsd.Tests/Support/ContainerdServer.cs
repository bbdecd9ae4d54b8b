using System.Diagnostics;

namespace Wsd.Tests.Support;

/// <summary>
/// A real containerd (and runc) from apt, started by the test with its own root, state and socket
/// under the test's directory, never the node's. Pods are made the way the kubelet's CRI would
/// label them (docs/compatibility.md#finding-the-workspace-container), with <c>ctr run</c> from busybox
/// root file systems made here: a "sandbox" container for the pod, and the pod's <c>workspace</c>
/// container.
/// </summary>
public sealed class ContainerdServer : IAsyncDisposable
{
    public const string Namespace = "k8s.io";

    readonly string _directory;
    readonly List<string> _containers = [];
    Process? _process;

    ContainerdServer(string directory)
    {
        _directory = directory;
    }

    public string Socket => Path.Combine(_directory, "containerd.sock");
    public string State => Path.Combine(_directory, "state");

    public static async Task<ContainerdServer> StartAsync(string directory)
    {
        Tools.RequireRoot("containerd runs containers");
        Tools.Require("containerd", "containerd");
        Tools.Require("ctr", "containerd");
        Tools.Require("runc", "runc");
        Tools.Require("busybox", "busybox-static");
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "config.toml"),
            "version = 2\n" +
            $"root = \"{Path.Combine(directory, "root")}\"\n" +
            $"state = \"{Path.Combine(directory, "state")}\"\n" +
            // The CRI plugin would want CNI and a node; plain containers need neither.
            "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n" +
            "[grpc]\n" +
            $"  address = \"{Path.Combine(directory, "containerd.sock")}\"\n" +
            "[ttrpc]\n" +
            $"  address = \"{Path.Combine(directory, "containerd-ttrpc.sock")}\"\n" +
            "[debug]\n  address = \"\"\n[metrics]\n  address = \"\"\n");
        var server = new ContainerdServer(directory);
        await server.StartProcessAsync();
        return server;
    }

    async Task StartProcessAsync()
    {
        var start = new ProcessStartInfo("containerd", ["--config", Path.Combine(_directory, "config.toml")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Tools.Run("ctr", "/", "--address", Socket, "version").ExitCode != 0)
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"containerd did not start (exit {(_process.HasExited ? _process.ExitCode : -1)})");
            await Task.Delay(50);
        }
    }

    /// <summary>Stops containerd (SIGTERM); its containers keep running under their shims, as on a node.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
            return;
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    public Task RestartAsync() => StartProcessAsync();

    public string Ctr(params string[] args) => Tools.Ok("ctr", "/", ["--address", Socket, "-n", Namespace, .. args]);

    /// <summary>
    /// Runs a pod of workspace <paramref name="instanceId"/>: its sandbox (labelled as the CRI plugin
    /// labels one, with Gitpod's instance label) and, unless <paramref name="workspace"/> is false,
    /// its workspace container. Answers the workspace container's ID.
    /// </summary>
    public string RunPod(string instanceId, string podUid, string kubernetesNamespace = "default", bool workspace = true)
    {
        Run($"sandbox-{podUid}",
            ["io.cri-containerd.kind=sandbox", $"gitpod.io/instanceID={instanceId}", $"workspaceID=ws-{instanceId}",
             $"io.kubernetes.pod.uid={podUid}", $"io.kubernetes.pod.namespace={kubernetesNamespace}", $"io.kubernetes.pod.name=ws-{instanceId}"]);
        return workspace ? RunWorkspace(podUid, kubernetesNamespace) : $"workspace-{podUid}";
    }

    public string RunWorkspace(string podUid, string kubernetesNamespace = "default") =>
        Run($"workspace-{podUid}",
            ["io.cri-containerd.kind=container", "io.kubernetes.container.name=workspace",
             $"io.kubernetes.pod.uid={podUid}", $"io.kubernetes.pod.namespace={kubernetesNamespace}"]);

    /// <summary>The directory a container made here runs in (its spec's absolute root.path).</summary>
    public string RootfsOf(string id) => Path.Combine(_directory, "rootfs-" + id);

    // Init runs a child in a user namespace of its own (ring1 before its ID maps) and records its PID.
    string Run(string id, string[] labels)
    {
        string rootfs = RootfsOf(id);
        foreach (var sub in (string[])["bin", "proc", "sys", "dev", "run", "tmp"])
            Directory.CreateDirectory(Path.Combine(rootfs, sub));
        File.Copy(Tools.Which("busybox")!, Path.Combine(rootfs, "bin", "busybox"), overwrite: true);
        foreach (var applet in (string[])["sh", "sleep", "unshare"])
        {
            string link = Path.Combine(rootfs, "bin", applet);
            if (!File.Exists(link))
                File.CreateSymbolicLink(link, "busybox");
        }
        File.WriteAllText(Path.Combine(rootfs, "init.sh"), "unshare -U sleep 100000 &\necho $! > /child.pid\nexec sleep 100000\n");
        Ctr(["run", "-d", .. labels.SelectMany(l => (string[])["--label", l]), "--rootfs", rootfs, id, "/bin/sh", "/init.sh"]);
        _containers.Add(id);
        return id;
    }

    /// <summary>A container's task PID (as the node sees it) and its user-namespace child's PID inside the container and on the node.</summary>
    public (int Pid, int ChildPid, int ChildHostPid) Processes(string id)
    {
        var line = Ctr("task", "ls").Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).First(f => f.Length >= 3 && f[0] == id);
        string childFile = Path.Combine(RootfsOf(id), "child.pid"); // not /run: the default spec mounts a tmpfs there
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((!File.Exists(childFile) || File.ReadAllText(childFile).Trim().Length == 0) && DateTime.UtcNow < deadline)
            Thread.Sleep(20);
        int pid = int.Parse(line[1]), child = int.Parse(File.ReadAllText(childFile).Trim());
        int childHost = Directory.EnumerateDirectories($"/proc/{pid}/task")
            .SelectMany(t => File.ReadAllText(Path.Combine(t, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(int.Parse)
            .Single(p => TestContainer.NsPids(p)[^1] == child);
        return (pid, child, childHost);
    }

    /// <summary>Kills a container's task (SIGKILL) and waits until containerd reports it stopped.</summary>
    public void Kill(string id)
    {
        Ctr("task", "kill", "-s", "SIGKILL", id);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!Ctr("task", "ls").Split('\n').Any(l => l.StartsWith(id + " ", StringComparison.Ordinal) && l.Contains("STOPPED")) && DateTime.UtcNow < deadline)
            Thread.Sleep(20);
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is null)
            await StartProcessAsync(); // to take its containers down
        foreach (var id in _containers)
        {
            Tools.Run("ctr", "/", "--address", Socket, "-n", Namespace, "task", "kill", "-s", "SIGKILL", id);
            for (int i = 0; i < 100 && Tools.Run("ctr", "/", "--address", Socket, "-n", Namespace, "task", "rm", id).ExitCode != 0
                && Tools.Run("ctr", "/", "--address", Socket, "-n", Namespace, "task", "ls").Stdout.Contains(id + " "); i++)
                await Task.Delay(50);
            Tools.Run("ctr", "/", "--address", Socket, "-n", Namespace, "container", "rm", id);
        }
        await StopAsync();
    }
}
