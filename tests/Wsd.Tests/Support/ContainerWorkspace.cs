using Grpc.Net.Client;
using Wsd.Api.WsDaemon;
using Wsd.Runtime;

namespace Wsd.Tests.Support;

/// <summary>
/// The in-workspace tests' set-up: a daemon whose <c>process</c> runtime provider reads pid files,
/// one empty workspace, its container (<see cref="TestContainer"/>) and a channel to its daemon.sock.
/// </summary>
public sealed class ContainerWorkspace : IAsyncDisposable
{
    ContainerWorkspace(string mark, DaemonProcess daemon, TestContainer container, GrpcChannel channel)
    {
        _mark = mark;
        Daemon = daemon;
        Container = container;
        Channel = channel;
    }

    readonly string _mark;
    public DaemonProcess Daemon { get; private set; }
    public TestContainer Container { get; }
    public GrpcChannel Channel { get; private set; }
    public string SocketPath => Path.Combine(Path.GetDirectoryName(_mark)!, "daemon.sock");

    /// <summary>Restarts the daemon (the workspace and its container stay) and connects to the socket it serves anew.</summary>
    public async Task RestartDaemonAsync()
    {
        Channel.Dispose();
        Daemon = await Daemon.RestartAsync();
        Channel = UnixSocketChannel.Create(SocketPath);
    }

    public static async Task<ContainerWorkspace> StartAsync(TempDirectory dir, string id)
    {
        Tools.RequireRoot("the in-workspace service works on namespaces and cgroups");
        string? cgroupRoot = TestContainer.CgroupV2Root();
        Assert.SkipWhen(cgroupRoot is null, "this machine has no cgroup v2 hierarchy");
        string pids = dir.Combine("containers");
        var daemon = await DaemonProcess.StartAsync(dir, config =>
        {
            config["runtime"] = new System.Text.Json.Nodes.JsonObject
            {
                ["process"] = new System.Text.Json.Nodes.JsonObject { ["pidDirectory"] = pids },
                ["cgroupRoot"] = cgroupRoot,
            };
        });
        try
        {
            await daemon.Content.InitWorkspaceAsync(new InitWorkspaceRequest
            {
                Id = id,
                Metadata = new WorkspaceMetadata { Owner = "user-1", MetaId = id },
                Initializer = new Api.ContentService.WorkspaceInitializer { Empty = new Api.ContentService.EmptyInitializer() },
            });
            var container = await TestContainer.StartAsync(dir, id, pids);
            var channel = UnixSocketChannel.Create(dir.Combine("workspaces", id + "-daemon", "daemon.sock"));
            return new ContainerWorkspace(dir.Combine("workspaces", id + "-daemon", "mark"), daemon, container, channel);
        }
        catch
        {
            await daemon.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        // Marks stay mounted when a daemon stops (running workspaces keep them); the test's must go
        // before its directory does, or the delete would reach through into the rootfs.
        Wsd.Interop.MountCalls.TryUnmount(_mark, Wsd.Interop.MountCalls.Detach);
        await Container.DisposeAsync();
        await Daemon.DisposeAsync();
    }
}
