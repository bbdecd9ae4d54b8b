using Grpc.Core;
using Wsd.Api.Iws;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>
/// The in-workspace service through the AOT binary against a container whose user prepared traps
/// (issue 14, item 7): symlinks in its /dev, and the state a daemon restart leaves.
/// </summary>
public sealed class HostileContainerTests : IAsyncLifetime
{
    const string Id = "ws-hostile";
    readonly TempDirectory _dir = new();
    ContainerWorkspace _workspace = null!;

    InWorkspaceService.InWorkspaceServiceClient Iws => new(_workspace.Channel);

    string Mark => _dir.Combine("workspaces", Id + "-daemon", "mark");

    string Dev(string name) => Path.Combine(_workspace.Container.Rootfs, "dev", name);

    public async ValueTask InitializeAsync() => _workspace = await ContainerWorkspace.StartAsync(_dir, Id);

    public async ValueTask DisposeAsync()
    {
        if (_workspace is not null)
            await _workspace.DisposeAsync();
        _dir.Dispose();
    }

    int MarkMounts() => File.ReadAllLines("/proc/self/mountinfo").Count(l => l.Split(' ')[4] == Mark);

    [Fact]
    public async Task ASymlinkedDevNetMakesNoDeviceNodeOnTheNode()
    {
        string canary = _dir.Combine("node-dir");
        Directory.CreateDirectory(canary);
        File.CreateSymbolicLink(Dev("net"), canary); // absolute: the node's path, as root would follow it

        var failure = await Record.ExceptionAsync(async () => await Iws.PrepareForUserNSAsync(new PrepareForUserNSRequest()));

        Assert.Empty(Directory.GetFileSystemEntries(canary));
        var e = Assert.IsType<RpcException>(failure);
        Assert.Equal(StatusCode.Internal, e.StatusCode);
        Assert.StartsWith("cannot prepare /dev: openat2(/dev/net in the container)", e.Status.Detail);
        Assert.Matches(@"\(errno (20|40)\)$", e.Status.Detail); // ENOTDIR or ELOOP: a symlink where a directory must be
    }

    [Fact]
    public async Task ASymlinkedDevFuseDoesNotChmodOrChownTheFileItPointsTo()
    {
        string nodeFile = _dir.Combine("node-file");
        File.WriteAllText(nodeFile, "root's");
        File.SetUnixFileMode(nodeFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.CreateSymbolicLink(Dev("fuse"), nodeFile);

        var failure = await Record.ExceptionAsync(async () => await Iws.PrepareForUserNSAsync(new PrepareForUserNSRequest()));

        var stat = TreeSnapshot.Stat(nodeFile);
        Assert.Equal((0x8000u | 0x180u, 0u, 0u), ((uint)stat.Mode & 0xFFFF, stat.Uid, stat.Gid));
        var e = Assert.IsType<RpcException>(failure);
        Assert.Equal(StatusCode.Internal, e.StatusCode);
        Assert.Contains("/dev/fuse exists and is not the device node it should be", e.Status.Detail);
        Assert.Equal(nodeFile, new FileInfo(Dev("fuse")).LinkTarget);
    }

    [Fact]
    public async Task PrepareForUserNSAfterARestartReplacesTheMarkAndTeardownLeavesNone()
    {
        await Iws.PrepareForUserNSAsync(new PrepareForUserNSRequest());
        Assert.Equal(1, MarkMounts());

        await _workspace.RestartDaemonAsync();
        await Iws.PrepareForUserNSAsync(new PrepareForUserNSRequest()); // "once" starts anew with the server (docs/compatibility.md#rate-limits)

        Assert.Equal(1, MarkMounts());
        Assert.True(File.Exists(Path.Combine(Mark, "bin", "busybox")));
        Assert.True((await Iws.TeardownAsync(new TeardownRequest())).Success);
        Assert.Equal(0, MarkMounts());
    }

    [Fact]
    public async Task MountAndUnmountCallsShareOneRateLimitPerWorkspace()
    {
        var answers = new List<StatusCode>();
        string? refusal = null;
        for (int i = 0; i < 10; i++)
        {
            try
            {
                // Not a proc mount: refused by the helper, but each call still started one.
                if (i % 2 == 0)
                    await Iws.UmountProcAsync(new UmountProcRequest { Target = "/tmp", Pid = _workspace.Container.ChildPid });
                else
                    await Iws.UmountSysfsAsync(new UmountProcRequest { Target = "/tmp", Pid = _workspace.Container.ChildPid });
                answers.Add(StatusCode.OK);
            }
            catch (RpcException e)
            {
                answers.Add(e.StatusCode);
                if (e.StatusCode == StatusCode.ResourceExhausted)
                    refusal ??= e.Status.Detail;
            }
        }

        Assert.Equal([.. Enumerable.Repeat(StatusCode.InvalidArgument, 8), StatusCode.ResourceExhausted, StatusCode.ResourceExhausted], answers);
        Assert.StartsWith("too many requests: UmountProc shares a limit with the other mount and unmount calls of this workspace, 8 at once", refusal);
    }

    [Fact]
    public async Task UmountProcLeavesTheReadOnlyMasksOfTheProcItMounted()
    {
        await Iws.MountProcAsync(new MountProcRequest { Target = "/mnt/proc", Pid = _workspace.Container.ChildPid });

        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await Iws.UmountProcAsync(new UmountProcRequest { Target = "/mnt/proc/sys", Pid = _workspace.Container.ChildPid }));

        Assert.StartsWith("ro", _workspace.Container.Mounts().Single(m => m.MountPoint == "/mnt/proc/sys").Options);
        Assert.Equal((StatusCode.InvalidArgument, "/mnt/proc/sys is not a proc mount but a part of one (such as a read-only mask the daemon put there)"),
            (e.StatusCode, e.Status.Detail));
        await Iws.UmountProcAsync(new UmountProcRequest { Target = "/mnt/proc", Pid = _workspace.Container.ChildPid });
        Assert.DoesNotContain(_workspace.Container.Mounts(), m => m.MountPoint.StartsWith("/mnt/proc", StringComparison.Ordinal));
    }
}
