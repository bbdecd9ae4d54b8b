using Grpc.Core;
using Wsd.Api.Iws;
using Wsd.Api.WsDaemon;
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
    DaemonProcess _daemon = null!;
    TestContainer _container = null!;
    Grpc.Net.Client.GrpcChannel _channel = null!;

    InWorkspaceService.InWorkspaceServiceClient Iws => new(_channel);

    public async ValueTask InitializeAsync()
    {
        Tools.RequireRoot("the in-workspace service works on namespaces and cgroups");
        string? cgroupRoot = TestContainer.CgroupV2Root();
        Assert.SkipWhen(cgroupRoot is null, "this machine has no cgroup v2 hierarchy");
        string pids = _dir.Combine("containers");
        _daemon = await DaemonProcess.StartAsync(_dir, config =>
        {
            config["runtime"] = new System.Text.Json.Nodes.JsonObject
            {
                ["process"] = new System.Text.Json.Nodes.JsonObject { ["pidDirectory"] = pids },
                ["cgroupRoot"] = cgroupRoot,
            };
        });
        await _daemon.Content.InitWorkspaceAsync(new InitWorkspaceRequest
        {
            Id = Id,
            Metadata = new WorkspaceMetadata { Owner = "user-1", MetaId = Id },
            Initializer = new Api.ContentService.WorkspaceInitializer { Empty = new Api.ContentService.EmptyInitializer() },
        });
        _container = await TestContainer.StartAsync(_dir, Id, pids);
        _channel = UnixSocketChannel.Create(_dir.Combine("workspaces", Id + "-daemon", "daemon.sock"));
    }

    public async ValueTask DisposeAsync()
    {
        _channel?.Dispose();
        if (_container is not null)
            await _container.DisposeAsync();
        if (_daemon is not null)
            await _daemon.DisposeAsync();
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
    [InlineData(1u, 100000u, 70001u, "mapping for UID 1 is out of range")] // upstream let this one through (REF §9.2 item 1)
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
}
