using System.Diagnostics;

namespace Wsd.Tests.Support;

/// <summary>
/// A "workspace container" made of real kernel objects for the in-workspace tests: an init process
/// in new PID, mount, UTS, IPC and network namespaces, chrooted into a private busybox rootfs, in a
/// cgroup of its own under the host's cgroup v2 hierarchy; and a child of it in a new user
/// namespace with no ID maps yet, as workspacekit's ring1 is before it asks for them, and one in a
/// network namespace of its own, as ring1 is before SetupPairVeths. The init's node PID goes into
/// the pid file the <c>process</c> runtime provider reads.
/// </summary>
public sealed class TestContainer : IAsyncDisposable
{
    readonly Process _unshare;

    TestContainer(Process unshare, string rootfs, string cgroup, int pid, int childPid, int childHostPid, int netChildPid, int netChildHostPid)
    {
        NetChildPid = netChildPid;
        NetChildHostPid = netChildHostPid;
        _unshare = unshare;
        Rootfs = rootfs;
        CgroupDirectory = cgroup;
        Pid = pid;
        ChildPid = childPid;
        ChildHostPid = childHostPid;
    }

    public string Rootfs { get; }
    /// <summary>The container's cgroup directory in the v2 hierarchy.</summary>
    public string CgroupDirectory { get; }
    /// <summary>The container init's node PID.</summary>
    public int Pid { get; }
    /// <summary>The user-namespace child's PID inside the container, and as the node sees it.</summary>
    public int ChildPid { get; }
    public int ChildHostPid { get; }
    /// <summary>The PID inside the container, and as the node sees it, of a process in a network namespace of its own.</summary>
    public int NetChildPid { get; }
    public int NetChildHostPid { get; }

    /// <summary>The container's mount table as its processes see it: (mount point, fs type, mount options).</summary>
    public IReadOnlyList<(string MountPoint, string Type, string Options)> Mounts() =>
        File.ReadAllLines($"/proc/{ChildHostPid}/mountinfo").Select(line =>
        {
            var fields = line.Split(' ');
            int dash = Array.IndexOf(fields, "-");
            return (fields[4], fields[dash + 1], fields[5]);
        }).ToList();

    /// <summary>A path inside the container, reached through its init's root.</summary>
    public string Inside(string path) => $"/proc/{Pid}/root{path}";

    /// <summary>Where the host's cgroup v2 hierarchy is mounted; null when there is none.</summary>
    public static string? CgroupV2Root() =>
        File.ReadLines("/proc/self/mountinfo")
            .Select(l => l.Split(' '))
            .FirstOrDefault(f => Array.IndexOf(f, "-") is var dash && dash > 0 && dash + 1 < f.Length && f[dash + 1] == "cgroup2")?[4];

    public static async Task<TestContainer> StartAsync(TempDirectory dir, string instanceId, string pidDirectory)
    {
        Tools.RequireRoot("the test container needs namespaces, chroot and cgroups");
        Tools.Require("busybox", "busybox-static");
        Tools.Require("unshare", "util-linux");
        string cgroupRoot = CgroupV2Root() ?? throw new InvalidOperationException("no cgroup v2 hierarchy");
        string rootfs = dir.Combine("rootfs-" + instanceId);
        foreach (var sub in (string[])["bin", "proc", "sys", "dev", "run", "tmp", "etc", "mnt/proc", "mnt/sys"])
            Directory.CreateDirectory(Path.Combine(rootfs, sub));
        File.Copy(Tools.Which("busybox")!, Path.Combine(rootfs, "bin", "busybox"));
        File.WriteAllBytes(Path.Combine(rootfs, "dev", "null"), []); // a mount point for the node's /dev/null
        foreach (var applet in (string[])["sh", "sleep", "unshare", "cat", "ls", "stat", "mount", "umount", "rmdir", "test"])
            File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        string cgroup = Path.Combine(cgroupRoot, "wsd-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(cgroup);

        // A chroot may not create user namespaces, so the init pivots into its rootfs instead, then
        // starts the child in a user namespace of its own. Scripts in files: no quoting across shells.
        File.WriteAllText(Path.Combine(rootfs, "init.sh"),
            "umount -l /.oldroot && rmdir /.oldroot && mount -t proc proc /proc || exit 1\n" +
            "unshare -n sleep 100000 &\n" +
            "echo $! > /run/net.pid\n" +
            "unshare -U sleep 100000 &\n" +
            "echo $! > /run/child.pid\n" +
            "exec sleep 100000\n");
        string enter = dir.Combine("enter-" + instanceId + ".sh");
        File.WriteAllText(enter,
            "set -e\n" +
            "mount --make-rprivate /\n" +
            $"mount --bind {rootfs} {rootfs}\n" +
            $"mount --bind /dev/null {rootfs}/dev/null\n" +
            $"cd {rootfs}\n" +
            "mkdir -p .oldroot\n" +
            "pivot_root . .oldroot\n" +
            "exec /bin/busybox sh /init.sh\n");
        var start = new ProcessStartInfo("sh")
        {
            ArgumentList = { "-c", $"echo $$ > {cgroup}/cgroup.procs && exec unshare --pid --mount --uts --ipc --net --fork --kill-child sh {enter}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var unshare = Process.Start(start)!;
        try
        {
            return await WaitStartedAsync(unshare, rootfs, cgroup, instanceId, pidDirectory);
        }
        catch
        {
            await Stop(unshare, cgroup);
            throw;
        }
    }

    static async Task<TestContainer> WaitStartedAsync(Process unshare, string rootfs, string cgroup, string instanceId, string pidDirectory)
    {
        string childFile = Path.Combine(rootfs, "run", "child.pid");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        int pid = 0;
        while (DateTime.UtcNow < deadline && (pid == 0 || !File.Exists(childFile) || File.ReadAllText(childFile).Trim().Length == 0))
        {
            if (unshare.HasExited)
                throw new InvalidOperationException($"the test container did not start: {await unshare.StandardError.ReadToEndAsync()}");
            pid = ChildrenOf(unshare.Id).FirstOrDefault();
            await Task.Delay(20);
        }
        int childPid = int.Parse(File.ReadAllText(childFile).Trim());
        int childHostPid = ChildrenOf(pid).Single(p => NsPids(p)[^1] == childPid);
        int netChildPid = int.Parse(File.ReadAllText(Path.Combine(rootfs, "run", "net.pid")).Trim());
        int netChildHostPid = ChildrenOf(pid).Single(p => NsPids(p)[^1] == netChildPid);
        Directory.CreateDirectory(pidDirectory);
        File.WriteAllText(Path.Combine(pidDirectory, instanceId + ".pid"), pid + "\n");
        return new TestContainer(unshare, rootfs, cgroup, pid, childPid, childHostPid, netChildPid, netChildHostPid);
    }

    static int[] ChildrenOf(int pid) =>
        Directory.EnumerateDirectories($"/proc/{pid}/task")
            .SelectMany(t => File.ReadAllText(Path.Combine(t, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(int.Parse).ToArray();

    public static int[] NsPids(int pid) =>
        File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("NSpid:", StringComparison.Ordinal))["NSpid:".Length..]
            .Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();

    public ValueTask DisposeAsync() => new(Stop(_unshare, CgroupDirectory));

    // cgroup.kill ends every process in the container's cgroup tree, wherever in it they moved.
    static async Task Stop(Process unshare, string cgroup)
    {
        try
        {
            File.WriteAllText(Path.Combine(cgroup, "cgroup.kill"), "1");
        }
        catch (IOException)
        {
            unshare.Kill(entireProcessTree: true);
        }
        await unshare.WaitForExitAsync();
        unshare.Dispose();
        // The cgroups can go once the kernel has reaped their last process.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Directory.Exists(cgroup) && DateTime.UtcNow < deadline)
        {
            try
            {
                foreach (var directory in Directory.EnumerateDirectories(cgroup, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length))
                    Directory.Delete(directory);
                Directory.Delete(cgroup);
            }
            catch (IOException)
            {
                await Task.Delay(50);
            }
        }
    }
}
