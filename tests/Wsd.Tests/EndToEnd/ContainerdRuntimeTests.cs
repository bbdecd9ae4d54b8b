using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using Wsd.Api.Iws;
using Wsd.Api.WsDaemon;
using Wsd.Runtime;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>
/// The <c>containerd</c> runtime provider through the AOT binary against a real containerd and
/// runc started by the test (<see cref="ContainerdServer"/>): pods labelled as the kubelet labels
/// them, in-workspace calls acting on the container containerd names, and containerd or the
/// container going away answered clearly instead of hanging.
/// </summary>
public sealed class ContainerdRuntimeTests : IAsyncLifetime
{
    static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    readonly TempDirectory _dir = new();
    readonly List<GrpcChannel> _channels = [];
    ContainerdServer _containerd = null!;
    DaemonProcess _daemon = null!;
    string _cgroupRoot = "";

    public async ValueTask InitializeAsync()
    {
        Tools.RequireRoot("containerd runs containers");
        _cgroupRoot = TestContainer.CgroupV2Root() ?? "";
        Assert.SkipWhen(_cgroupRoot.Length == 0, "this machine has no cgroup v2 hierarchy");
        _containerd = await ContainerdServer.StartAsync(_dir.Combine("containerd"));
        _daemon = await DaemonProcess.StartAsync(_dir, config =>
        {
            config["runtime"] = new System.Text.Json.Nodes.JsonObject
            {
                ["kind"] = "containerd",
                ["containerd"] = new System.Text.Json.Nodes.JsonObject
                {
                    ["socket"] = _containerd.Socket,
                    ["namespace"] = ContainerdServer.Namespace,
                    ["state"] = _containerd.State,
                    ["waitForContainer"] = $"{Wait.TotalSeconds}s",
                },
                ["cgroupRoot"] = _cgroupRoot,
            };
        });
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels)
            channel.Dispose();
        if (_daemon is not null)
            await _daemon.DisposeAsync();
        if (_containerd is not null)
            await _containerd.DisposeAsync();
        _dir.Dispose();
    }

    async Task<InWorkspaceService.InWorkspaceServiceClient> WorkspaceAsync(string id)
    {
        await _daemon.Content.InitWorkspaceAsync(new InitWorkspaceRequest
        {
            Id = id,
            Metadata = new WorkspaceMetadata { Owner = "user-1", MetaId = id },
            Initializer = new Api.ContentService.WorkspaceInitializer { Empty = new Api.ContentService.EmptyInitializer() },
        });
        var channel = UnixSocketChannel.Create(_dir.Combine("workspaces", id + "-daemon", "daemon.sock"));
        _channels.Add(channel);
        return new InWorkspaceService.InWorkspaceServiceClient(channel);
    }

    static WriteIDMappingRequest StandardMapping(long pid) => new()
    {
        Pid = pid,
        Mapping = { new WriteIDMappingRequest.Types.Mapping { ContainerId = 0, HostId = 33333, Size = 1 }, new WriteIDMappingRequest.Types.Mapping { ContainerId = 1, HostId = 100000, Size = 65534 } },
    };

    // WorkspaceInfo acts on the container's cgroup: without the memory controller (this host) it
    // names the cgroup it read, which shows which container was found.
    static async Task<string> InfoAsync(InWorkspaceService.InWorkspaceServiceClient iws)
    {
        try
        {
            var info = await iws.WorkspaceInfoAsync(new WorkspaceInfoRequest());
            return $"OK cpu {info.Resources.Cpu.Used}";
        }
        catch (RpcException e)
        {
            return $"{e.StatusCode} {e.Status.Detail}";
        }
    }

    string CgroupOf(string containerId) => Path.Combine(_cgroupRoot, ContainerdServer.Namespace, containerId);

    [Fact]
    public async Task TheWorkspaceContainerOfAWorkspacePodIsFoundAndActedOn()
    {
        var iws = await WorkspaceAsync("ws-cd1");
        string id = _containerd.RunPod("ws-cd1", "uid-cd1");
        var (pid, child, childHost) = _containerd.Processes(id);

        await iws.WriteIDMappingAsync(StandardMapping(child));

        Assert.Equal(["0 33333 1", "1 100000 65534"], File.ReadAllLines($"/proc/{childHost}/uid_map").Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))));
        var outside = await Assert.ThrowsAsync<RpcException>(async () => await iws.WriteIDMappingAsync(StandardMapping(pid)));
        Assert.Equal(StatusCode.InvalidArgument, outside.StatusCode); // the task's node PID is not a PID in the container
        string info = await InfoAsync(iws);
        Assert.True(info.StartsWith("OK", StringComparison.Ordinal) || info.Contains(CgroupOf(id), StringComparison.Ordinal), info);
        // ctr --rootfs gives the spec an absolute root.path; the CRI plugin's "rootfs" is in the task bundle.
        string rootfs = _containerd.RootfsOf(id);
        Assert.Contains($"workspace container {id} of pod uid-cd1: running, PID {pid}, cgroup /{ContainerdServer.Namespace}/{id}, rootfs {rootfs}", _daemon.Output);
    }

    [Fact]
    public async Task PodsOfOtherWorkspacesOrOtherKubernetesNamespacesAreNotTaken()
    {
        var iws = await WorkspaceAsync("ws-cd2");
        _containerd.RunPod("ws-cd2", "uid-cd2-elsewhere", kubernetesNamespace: "other-team");
        _containerd.RunPod("ws-cd3", "uid-cd3");
        var sandboxOnly = _containerd.RunPod("ws-cd2", "uid-cd2-no-workspace", workspace: false);

        var e = await Assert.ThrowsAsync<RpcException>(async () => await iws.WriteIDMappingAsync(StandardMapping(2)));

        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("the pod of workspace ws-cd2 has no container named workspace", e.Status.Detail);
        Assert.Contains($"waited {Wait.TotalSeconds:0} s", e.Status.Detail);

        // Its workspace container joins the pod: now it is the one.
        _containerd.RunWorkspace("uid-cd2-no-workspace");
        var (_, child, childHost) = _containerd.Processes(sandboxOnly);
        await iws.WriteIDMappingAsync(StandardMapping(child));
        Assert.Contains("33333", File.ReadAllText($"/proc/{childHost}/uid_map"));
    }

    [Fact]
    public async Task ACallWaitsForAContainerThatIsStarting()
    {
        var iws = await WorkspaceAsync("ws-cd4");
        var call = InfoAsync(iws);
        await Task.Delay(500, TestContext.Current.CancellationToken);
        string id = _containerd.RunPod("ws-cd4", "uid-cd4");

        string info = await call;

        Assert.True(info.StartsWith("OK", StringComparison.Ordinal) || info.Contains(CgroupOf(id), StringComparison.Ordinal), info);
    }

    [Fact]
    public async Task AContainerThatExitedIsAClearAnswerWithoutWaiting()
    {
        var iws = await WorkspaceAsync("ws-cd5");
        string id = _containerd.RunPod("ws-cd5", "uid-cd5");
        Assert.Contains(CgroupOf(id), await InfoAsync(iws) + CgroupOf(id)); // found while it runs
        _containerd.Kill(id);

        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<RpcException>(async () => await iws.WriteIDMappingAsync(StandardMapping(2)));

        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains($"the workspace container {id} of workspace ws-cd5 has exited (status 137)", e.Status.Detail);
        Assert.True(clock.Elapsed < Wait, $"the answer took {clock.Elapsed}: it waited for a container that had exited");
    }

    [Fact]
    public async Task ContainerdGoingAwayIsUnavailableNotAHangAndItsReturnIsFollowed()
    {
        var running = await WorkspaceAsync("ws-cd6");
        var later = await WorkspaceAsync("ws-cd7");
        string id = _containerd.RunPod("ws-cd6", "uid-cd6");
        var (_, child, _) = _containerd.Processes(id);
        await running.WriteIDMappingAsync(StandardMapping(child)); // known and running

        await _containerd.StopAsync();

        // A container wsd knows keeps being served: its task runs on under its shim.
        Assert.DoesNotContain("Unavailable", await InfoAsync(running));
        // One it does not know cannot be looked up: a clear UNAVAILABLE within the wait, not a hang.
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<RpcException>(async () => await later.WriteIDMappingAsync(StandardMapping(2)));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Contains($"containerd at {_containerd.Socket} is not reachable", e.Status.Detail);
        Assert.True(clock.Elapsed < Wait + TimeSpan.FromSeconds(5), $"the answer took {clock.Elapsed}");

        // containerd comes back: wsd reconnects, lists again and follows new pods.
        await _containerd.RestartAsync();
        string second = _containerd.RunPod("ws-cd7", "uid-cd7");
        var (_, laterChild, laterChildHost) = _containerd.Processes(second);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                await later.WriteIDMappingAsync(StandardMapping(laterChild));
                break;
            }
            catch (RpcException x) when (x.StatusCode == StatusCode.FailedPrecondition)
            {
                throw new InvalidOperationException($"wsd did not find the new pod; its log:\n{_daemon.Output}", x);
            }
            catch (RpcException retry) when (retry.StatusCode is StatusCode.Unavailable or StatusCode.ResourceExhausted && DateTime.UtcNow < deadline)
            {
                Console.WriteLine("DEBUG retry " + retry.Status.Detail);
                await Task.Delay(500, TestContext.Current.CancellationToken);
            }
        }
        Assert.Contains("33333", File.ReadAllText($"/proc/{laterChildHost}/uid_map"));
    }
}
