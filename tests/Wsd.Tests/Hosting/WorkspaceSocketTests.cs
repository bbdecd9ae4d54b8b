using System.Net.Sockets;
using Grpc.Core;
using Wsd.Api.Iws;
using Wsd.Api.WsDaemon;
using Wsd.Config;
using Wsd.Runtime;
using Wsd.Tests.Support;
using Wsd.Workspaces;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Wsd.Tests.Hosting;

/// <summary>
/// The in-workspace services on a workspace's unix socket (HTTP/2 cleartext), with the daemon
/// composed in-process exactly as <c>wsd run</c> composes it.
/// </summary>
public sealed class WorkspaceSocketTests : IAsyncLifetime
{
    readonly TempDirectory _dir = new();
    WebApplication _daemon = null!;
    IWorkspaceSocketServer _sockets = null!;
    WorkingArea _area = null!;

    public async ValueTask InitializeAsync()
    {
        var config = new WsdConfig();
        config.Service.Address = $"127.0.0.1:{FreePort.Next()}";
        config.Health.Address = $"127.0.0.1:{FreePort.Next()}";
        config.Content.WorkingArea = _dir.Combine("workspaces");
        config.Content.Storage.Local.Root = _dir.Combine("storage");
        config.Log.Level = "warning";
        _daemon = Program.BuildDaemon(config, verbose: false);
        await _daemon.StartAsync(TestContext.Current.CancellationToken);
        _sockets = _daemon.Services.GetRequiredService<IWorkspaceSocketServer>();
        _area = _daemon.Services.GetRequiredService<WorkingArea>();
    }

    public async ValueTask DisposeAsync()
    {
        await _daemon.StopAsync();
        await _daemon.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task TheInWorkspaceServiceAnswersOnTheWorkspaceSocket()
    {
        string socket = _area.SocketPath("ws-a");
        await _sockets.StartAsync("ws-a", socket, TestContext.Current.CancellationToken);
        using var channel = UnixSocketChannel.Create(socket);

        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await new InWorkspaceService.InWorkspaceServiceClient(channel).WorkspaceInfoAsync(new WorkspaceInfoRequest()));

        // The answer comes from wsd's InWorkspaceService itself, for the socket's workspace: the call
        // was routed to it over the socket, and the socket named the workspace.
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.StartsWith("cannot find workspace container: no container is running for workspace ws-a", e.Status.Detail);
    }

    [Fact]
    public async Task TheSocketIsWorldConnectableInsideARootOnlyServiceDirectory()
    {
        string socket = _area.SocketPath("ws-b");
        await _sockets.StartAsync("ws-b", socket, TestContext.Current.CancellationToken);

        Assert.Equal((UnixFileMode)0x1FF, File.GetUnixFileMode(socket));
        Assert.Equal((UnixFileMode)0x1ED, File.GetUnixFileMode(_area.ServiceDir("ws-b")));
    }

    [Fact]
    public async Task TheContentApiIsNotReachableThroughAWorkspaceSocket()
    {
        string socket = _area.SocketPath("ws-c");
        await _sockets.StartAsync("ws-c", socket, TestContext.Current.CancellationToken);
        using var channel = UnixSocketChannel.Create(socket);

        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await new WorkspaceContentService.WorkspaceContentServiceClient(channel).IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "ws-c" }));

        Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
        Assert.Contains("not served on workspace sockets", e.Status.Detail);
    }

    [Fact]
    public async Task StoppingRemovesTheSocketAndRefusesNewConnections()
    {
        string socket = _area.SocketPath("ws-d");
        await _sockets.StartAsync("ws-d", socket, TestContext.Current.CancellationToken);
        Assert.True(_sockets.IsServing("ws-d"));

        await _sockets.StopAsync("ws-d");

        Assert.False(_sockets.IsServing("ws-d"));
        Assert.False(File.Exists(socket));
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        Assert.Throws<SocketException>(() => client.Connect(new UnixDomainSocketEndPoint(socket)));
    }

    [Fact]
    public async Task AFileLeftAtTheSocketPathByAnEarlierProcessIsReplaced()
    {
        string socket = _area.SocketPath("ws-e");
        Directory.CreateDirectory(Path.GetDirectoryName(socket)!);
        File.WriteAllText(socket, "left behind by a daemon that was killed");

        await _sockets.StartAsync("ws-e", socket, TestContext.Current.CancellationToken);
        using var channel = UnixSocketChannel.Create(socket);
        var answer = await new InWorkspaceService.InWorkspaceServiceClient(channel).TeardownAsync(new TeardownRequest());

        Assert.True(answer.Success);
    }

    [Fact]
    public async Task ManyWorkspacesAreServedSideBySide()
    {
        var ids = Enumerable.Range(0, 20).Select(i => $"ws-many-{i}").ToArray();
        foreach (var id in ids)
            await _sockets.StartAsync(id, _area.SocketPath(id), TestContext.Current.CancellationToken);

        await Task.WhenAll(ids.Select(async id =>
        {
            using var channel = UnixSocketChannel.Create(_area.SocketPath(id));
            var e = await Assert.ThrowsAsync<RpcException>(async () =>
                await new InWorkspaceService.InWorkspaceServiceClient(channel).WorkspaceInfoAsync(new WorkspaceInfoRequest()));
            Assert.StartsWith($"cannot find workspace container: no container is running for workspace {id}", e.Status.Detail);
        }));

        foreach (var id in ids)
            await _sockets.StopAsync(id);
        Assert.All(ids, id => Assert.False(File.Exists(_area.SocketPath(id))));
    }
}
