using Grpc.Core;
using Wsd.Api.Iws;
using Wsd.Api.WsDaemon;
using Wsd.Runtime;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>
/// The in-workspace service through the AOT binary, over a workspace's daemon.sock, against a
/// test container of real namespaces and cgroups (<see cref="TestContainer"/>).
/// </summary>
public sealed class InWorkspaceServiceTests : IAsyncLifetime
{
    const string Id = "ws-iws";
    readonly TempDirectory _dir = new();
    ContainerWorkspace? _workspace;
    DaemonProcess _daemon = null!;
    TestContainer _container = null!;

    InWorkspaceService.InWorkspaceServiceClient Iws => new(_workspace!.Channel);

    public async ValueTask InitializeAsync()
    {
        _workspace = await ContainerWorkspace.StartAsync(_dir, Id);
        _daemon = _workspace.Daemon;
        _container = _workspace.Container;
    }

    public async ValueTask DisposeAsync()
    {
        if (_workspace is not null)
            await _workspace.DisposeAsync();
        _dir.Dispose();
    }

    static WriteIDMappingRequest Mapping(long pid, bool gid, params (uint Container, uint Host, uint Size)[] entries)
    {
        var request = new WriteIDMappingRequest { Pid = pid, Gid = gid };
        foreach (var (container, host, size) in entries)
            request.Mapping.Add(new WriteIDMappingRequest.Types.Mapping { ContainerId = container, HostId = host, Size = size });
        return request;
    }

    static string MapOf(int hostPid, string map) =>
        string.Join('\n', File.ReadAllLines($"/proc/{hostPid}/{map}").Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))));

    [Fact]
    public async Task WriteIDMappingWritesTheChildsUidAndGidMaps()
    {
        await Iws.WriteIDMappingAsync(Mapping(_container.ChildPid, gid: false, (0, 33333, 1), (1, 100000, 65534)));
        await Iws.WriteIDMappingAsync(Mapping(_container.ChildPid, gid: true, (0, 33333, 1), (1, 100000, 65534)));

        Assert.Equal("0 33333 1\n1 100000 65534", MapOf(_container.ChildHostPid, "uid_map"));
        Assert.Equal("0 33333 1\n1 100000 65534", MapOf(_container.ChildHostPid, "gid_map"));
    }

    [Theory]
    [InlineData(0u, 33334u, 1u, "mapping for UID 0 is out of range")]
    [InlineData(0u, 33333u, 2u, "mapping for UID 0 is out of range")]
    [InlineData(1u, 100000u, 70001u, "mapping for UID 1 is out of range")] // upstream let this one through (docs/compatibility.md#id-maps-beyond-their-range)
    [InlineData(1u, 169999u, 2u, "mapping for UID 1 is out of range")]
    [InlineData(1u, 99999u, 10u, "mapping for UID 1 is out of range")]
    [InlineData(1u, 100000u, 0u, "mapping for UID 1 has size 0")]
    public async Task MappingsOutsideTheRangesAreRefused(uint container, uint host, uint size, string message)
    {
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await Iws.WriteIDMappingAsync(Mapping(_container.ChildPid, gid: false, (container, host, size))));

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith(message, e.Status.Detail);
        Assert.Equal("", File.ReadAllText($"/proc/{_container.ChildHostPid}/uid_map"));
    }

    [Fact]
    public async Task PidsOutsideTheContainerAreRefused()
    {
        int[] outside = [Environment.ProcessId, _daemon.Pid, _container.ChildHostPid, 1 << 22];
        foreach (int pid in outside.Where(p => p != _container.ChildPid))
        {
            var e = await Assert.ThrowsAsync<RpcException>(async () =>
                await Iws.WriteIDMappingAsync(Mapping(pid, gid: false, (0, 33333, 1))));
            Assert.Equal((StatusCode.InvalidArgument, $"cannot find PID {pid} in the workspace container"), (e.StatusCode, e.Status.Detail));
            await Task.Delay(2600); // the bucket refills one call every 2.5 s
        }
        Assert.Equal("", File.ReadAllText($"/proc/{_container.ChildHostPid}/uid_map"));
    }

    [Fact]
    public async Task WriteIDMappingIsRateLimited()
    {
        var answers = new List<StatusCode>();
        for (int i = 0; i < 6; i++)
        {
            try
            {
                await Iws.WriteIDMappingAsync(Mapping(_container.ChildPid, gid: false, (0, 1, 1)));
                answers.Add(StatusCode.OK);
            }
            catch (RpcException e)
            {
                answers.Add(e.StatusCode);
                if (e.StatusCode == StatusCode.ResourceExhausted)
                    Assert.StartsWith("too many requests", e.Status.Detail);
            }
        }

        Assert.Equal([.. Enumerable.Repeat(StatusCode.InvalidArgument, 4), StatusCode.ResourceExhausted, StatusCode.ResourceExhausted], answers);
    }

    [Fact]
    public async Task TeardownWorksOnceAndAnAbsentMarkIsSuccess()
    {
        var first = await Iws.TeardownAsync(new TeardownRequest());
        var second = await Assert.ThrowsAsync<RpcException>(async () => await Iws.TeardownAsync(new TeardownRequest()));
        var wipe = await Iws.WipingTeardownAsync(new WipingTeardownRequest { DoWipe = true });

        Assert.True(first.Success);
        Assert.Equal((StatusCode.ResourceExhausted, "Teardown can be used only once"), (second.StatusCode, second.Status.Detail));
        Assert.True(wipe.Success);
    }

    [Fact]
    public async Task EvacuateCGroupNeedsTheWorkspaceCgroupOfPrepareForUserNS()
    {
        var e = await Assert.ThrowsAsync<RpcException>(async () => await Iws.EvacuateCGroupAsync(new EvacuateCGroupRequest()));

        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.StartsWith("cannot find workspace cgroup", e.Status.Detail);
    }

    [Fact]
    public async Task WorkspaceInfoSaysWhatTheCgroupLacks()
    {
        // This host's cgroup v2 hierarchy has no memory controller; the kernel lab shows the figures.
        Assert.SkipWhen(File.Exists(Path.Combine(_container.CgroupDirectory, "memory.current")), "the memory controller is enabled here; the kernel lab test covers the figures");
        var e = await Assert.ThrowsAsync<RpcException>(async () => await Iws.WorkspaceInfoAsync(new WorkspaceInfoRequest()));

        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("the memory controller is not enabled", e.Status.Detail);
    }

    [Fact]
    public async Task MountProcMountsTheContainersProcMaskedAndUmountProcRemovesIt()
    {
        await Iws.MountProcAsync(new MountProcRequest { Target = "/mnt/proc", Pid = _container.ChildPid });

        var proc = _container.Mounts().Where(m => m.MountPoint.StartsWith("/mnt/proc", StringComparison.Ordinal)).ToList();
        Assert.Contains(("/mnt/proc", "proc"), proc.Select(m => (m.MountPoint, m.Type)));
        // /dev/null over each masked file this kernel has (this host's has no kcore; the kernel lab's does).
        string[] masked = [.. ((string[])["kcore", "keys", "timer_list", "sched_debug", "latency_stats", "timer_stats"]).Where(f => File.Exists("/proc/" + f))];
        Assert.NotEmpty(masked);
        Assert.All(masked, f => Assert.Empty(File.ReadAllBytes(_container.Inside("/mnt/proc/" + f))));
        Assert.Empty(Directory.GetFileSystemEntries(_container.Inside("/mnt/proc/acpi")));
        Assert.All(((string[])["sys", "bus", "fs", "irq", "sysrq-trigger", "asound"]).Where(f => Path.Exists("/proc/" + f)),
            f => Assert.StartsWith("ro", proc.Single(m => m.MountPoint == "/mnt/proc/" + f).Options));
        // It is the container's PID namespace: its init is 1, the daemon is not there.
        Assert.Contains("sleep", File.ReadAllText(_container.Inside("/mnt/proc/1/cmdline")));
        Assert.False(Directory.Exists(_container.Inside($"/mnt/proc/{_daemon.Pid}")));

        await Iws.UmountProcAsync(new UmountProcRequest { Target = "/mnt/proc", Pid = _container.ChildPid });

        Assert.DoesNotContain(_container.Mounts(), m => m.MountPoint.StartsWith("/mnt/proc", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MountSysfsShowsTheContainersNetworkWithFirmwareMasked()
    {
        await Iws.MountSysfsAsync(new MountProcRequest { Target = "/mnt/sys", Pid = _container.ChildPid });

        Assert.Contains(("/mnt/sys", "sysfs"), _container.Mounts().Select(m => (m.MountPoint, m.Type)));
        Assert.Empty(Directory.GetFileSystemEntries(_container.Inside("/mnt/sys/firmware")));
        Assert.Equal(["lo"], Directory.GetFileSystemEntries(_container.Inside("/mnt/sys/class/net")).Select(Path.GetFileName));

        await Iws.UmountSysfsAsync(new UmountProcRequest { Target = "/mnt/sys", Pid = _container.ChildPid });
        Assert.DoesNotContain(_container.Mounts(), m => m.MountPoint.StartsWith("/mnt/sys", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MountTargetsCannotLeaveTheContainersRoot()
    {
        string outside = _dir.Combine("outside");
        Directory.CreateDirectory(outside);
        File.CreateSymbolicLink(Path.Combine(_container.Rootfs, "escape"), outside); // absolute: the node's path

        var viaSymlink = await Assert.ThrowsAsync<RpcException>(async () =>
            await Iws.MountProcAsync(new MountProcRequest { Target = "/escape", Pid = _container.ChildPid }));
        var viaDots = await Assert.ThrowsAsync<RpcException>(async () =>
            await Iws.MountProcAsync(new MountProcRequest { Target = "/mnt/../../proc-here", Pid = _container.ChildPid }));
        var notProc = await Assert.ThrowsAsync<RpcException>(async () =>
            await Iws.UmountProcAsync(new UmountProcRequest { Target = "/tmp", Pid = _container.ChildPid }));
        var outsidePid = await Assert.ThrowsAsync<RpcException>(async () =>
            await Iws.MountProcAsync(new MountProcRequest { Target = "/mnt/proc", Pid = Environment.ProcessId }));

        Assert.Equal(StatusCode.InvalidArgument, viaSymlink.StatusCode);
        Assert.Contains("cannot be used in the workspace", viaSymlink.Status.Detail);
        Assert.Empty(Directory.GetFileSystemEntries(outside)); // nothing was mounted on the node's directory
        Assert.Equal((StatusCode.InvalidArgument, "target \"/mnt/../../proc-here\" must not contain \"..\""), (viaDots.StatusCode, viaDots.Status.Detail));
        Assert.Equal((StatusCode.InvalidArgument, "/tmp is not a proc mount"), (notProc.StatusCode, notProc.Status.Detail));
        Assert.Equal(StatusCode.InvalidArgument, outsidePid.StatusCode);
        Assert.DoesNotContain(_container.Mounts(), m => m.Type == "proc" && m.MountPoint != "/proc");
    }

    string Mark => _dir.Combine("workspaces", Id + "-daemon", "mark");

    static string StatInUserNamespace(int pid, string path) =>
        Tools.Ok("nsenter", "/", "-U", "-t", pid.ToString(), "stat", "-c", "%u:%g", path).Trim();

    [Fact]
    public async Task WithNoFsShiftConfiguredTheDaemonSaysAtStartWhatAutoChoseAndPrepareAnswersIt()
    {
        // Read here, not through the daemon's code: a kernel lists a loaded shiftfs as "nodev\tshiftfs".
        bool kernelHasShiftfs = File.ReadAllLines("/proc/filesystems").Any(l => l.EndsWith("\tshiftfs", StringComparison.Ordinal));
        string line = kernelHasShiftfs
            ? "runtime.fsShift auto: shiftfs (this kernel has the shiftfs filesystem, which every workspacekit supports)"
            : "runtime.fsShift auto: idmapped (this kernel has no shiftfs filesystem; the upstream workspacekit needs shiftfs, see README)";

        var prepared = await Iws.PrepareForUserNSAsync(new PrepareForUserNSRequest());

        Assert.Single(_daemon.Output.Split('\n'), l => l.Contains(line, StringComparison.Ordinal));
        Assert.Equal(kernelHasShiftfs ? FSShiftMethod.Shiftfs : FSShiftMethod.Idmapped, prepared.FsShift);
        Assert.True((await Iws.TeardownAsync(new TeardownRequest())).Success);
    }

    [Fact]
    public async Task PrepareForUserNSShiftsTheRootForTheUserNamespaceAndTeardownUnshiftsIt()
    {
        Tools.Require("nsenter", "util-linux");
        string owned = Path.Combine(_container.Rootfs, "etc", "owned-by-1");
        File.WriteAllText(owned, "");
        Wsd.Interop.Ownership.Lchown(owned, 1, 1);

        var prepared = await Iws.PrepareForUserNSAsync(new PrepareForUserNSRequest());
        var again = await Assert.ThrowsAsync<RpcException>(async () => await Iws.PrepareForUserNSAsync(new PrepareForUserNSRequest()));
        await Iws.WriteIDMappingAsync(Mapping(_container.ChildPid, gid: false, (0, 33333, 1), (1, 100000, 65534)));
        await Iws.WriteIDMappingAsync(Mapping(_container.ChildPid, gid: true, (0, 33333, 1), (1, 100000, 65534)));

        Assert.Equal(FSShiftMethod.Idmapped, prepared.FsShift);
        Assert.Equal((StatusCode.ResourceExhausted, "PrepareForUserNS can be used only once"), (again.StatusCode, again.Status.Detail));
        // On the node the mark shows the shifted owners; in the workspace's user namespace, the original ones.
        Assert.Equal("33333:33333", Tools.Ok("stat", "/", "-c", "%u:%g", Path.Combine(Mark, "bin", "busybox")).Trim());
        Assert.Equal("100000:100000", Tools.Ok("stat", "/", "-c", "%u:%g", Path.Combine(Mark, "etc", "owned-by-1")).Trim());
        Assert.Equal("0:0", StatInUserNamespace(_container.ChildHostPid, Path.Combine(Mark, "bin", "busybox")));
        Assert.Equal("1:1", StatInUserNamespace(_container.ChildHostPid, Path.Combine(Mark, "etc", "owned-by-1")));
        Assert.Equal("65534:65534", StatInUserNamespace(_container.ChildHostPid, Path.Combine(_container.Rootfs, "bin", "busybox"))); // unshifted: unmapped
        // Its /dev has what a workspace needs, owned by the workspace's root.
        var tun = TreeSnapshot.Stat(Path.Combine(_container.Rootfs, "dev", "net", "tun"));
        Assert.Equal((0x2000u | 0x1B6u, 33333u), ((uint)tun.Mode & 0xFFFF, tun.Uid));

        var teardown = await Iws.TeardownAsync(new TeardownRequest());
        Assert.True(teardown.Success);
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), l => l.Split(' ')[4] == Mark);
    }

    [Fact]
    public async Task EvacuateCGroupAfterPrepareLeavesTheProcessesInWorkspaceUser()
    {
        await Iws.PrepareForUserNSAsync(new PrepareForUserNSRequest());
        await Iws.EvacuateCGroupAsync(new EvacuateCGroupRequest());

        string workspace = Path.Combine(_container.CgroupDirectory, "workspace");
        string user = Path.Combine(workspace, "user");
        Assert.Equal("", File.ReadAllText(Path.Combine(_container.CgroupDirectory, "cgroup.procs")).Trim());
        Assert.Equal("", File.ReadAllText(Path.Combine(workspace, "cgroup.procs")).Trim());
        Assert.Contains(_container.Pid.ToString(), File.ReadAllLines(Path.Combine(user, "cgroup.procs")));
        Assert.Contains(_container.ChildHostPid.ToString(), File.ReadAllLines(Path.Combine(user, "cgroup.procs")));
        Assert.Equal(33333u, TreeSnapshot.Stat(workspace).Uid);
        Assert.Equal(33333u, TreeSnapshot.Stat(Path.Combine(user, "cgroup.procs")).Uid);
        var again = await Assert.ThrowsAsync<RpcException>(async () => await Iws.EvacuateCGroupAsync(new EvacuateCGroupRequest()));
        Assert.Equal(StatusCode.ResourceExhausted, again.StatusCode);
    }

    [Fact]
    public async Task DisposingAWorkspaceWithItsMarkMountedLeavesTheContainersFilesAlone()
    {
        await Iws.PrepareForUserNSAsync(new PrepareForUserNSRequest());
        Assert.True(File.Exists(Path.Combine(Mark, "bin", "busybox")));

        await _daemon.Content.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = Id });

        Assert.True(File.Exists(Path.Combine(_container.Rootfs, "bin", "busybox")));
        Assert.False(Directory.Exists(_dir.Combine("workspaces", Id + "-daemon")));
    }

    [Theory]
    [InlineData("server", "vers=4.2", "source \"server\" must be host:/path")]
    [InlineData("bad host!:/export", "", "source host \"bad host!\" is neither an IP address nor a host name")]
    [InlineData("10.0.0.1:/export/../etc", "", "source path \"/export/../etc\" must not contain")]
    [InlineData("10.0.0.1:/export", "vers=4.2,suid", "mount option \"suid\" is not allowed")]
    [InlineData("10.0.0.1:/export", "dev", "mount option \"dev\" is not allowed")]
    [InlineData("10.0.0.1:/export", "vers=3", "mount option \"vers=3\" is not allowed")]
    [InlineData("10.0.0.1:/export", "context=system_u:object_r:etc_t", "mount option \"context=system_u:object_r:etc_t\" is not allowed")]
    public async Task MountNfsRefusesSourcesAndOptionsThatAreNotPlainNfs(string source, string options, string message)
    {
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await Iws.MountNfsAsync(new MountNfsRequest { Source = source, Args = options, Target = "/mnt/proc", Pid = _container.ChildPid }));

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith(message, e.Status.Detail);
    }

    [Fact]
    public async Task MountNfsSaysWhyTheKernelCouldNotMount()
    {
        // This host's kernel has no NFS client and the container's network has no server: either way
        // the mount fails, with the kernel's reason, and nothing is mounted. The kernel lab mounts a real export.
        var e = await Assert.ThrowsAsync<RpcException>(async () => await Iws.MountNfsAsync(new MountNfsRequest
        {
            Source = "127.0.0.1:/export", Args = "vers=4.2,soft,timeo=10,retrans=1", Target = "/mnt/proc", Pid = _container.ChildPid,
        }));
        var notNfs = await Assert.ThrowsAsync<RpcException>(async () =>
            await Iws.UmountNfsAsync(new UmountNfsRequest { Target = "/tmp", Pid = _container.ChildPid }));

        Assert.Equal(StatusCode.Internal, e.StatusCode);
        Assert.StartsWith("cannot mount nfs: mount(nfs4)", e.Status.Detail);
        Assert.DoesNotContain(_container.Mounts(), m => m.Type.StartsWith("nfs", StringComparison.Ordinal));
        Assert.Equal((StatusCode.InvalidArgument, "/tmp is not a nfs4 mount"), (notNfs.StatusCode, notNfs.Status.Detail));
    }
}
