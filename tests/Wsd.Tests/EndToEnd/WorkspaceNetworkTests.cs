using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Wsd.Api.Iws;
using Wsd.Api.WsDaemon;
using Wsd.Runtime;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>
/// SetupPairVeths through the AOT binary against namespaces made by the test: the container's
/// network namespace is the pod's, wired by a veth pair to an "outside" namespace standing in for
/// the pod network (192.168.77.1 outside, 192.168.77.2 on the pod's eth0, MTU 1450); the workspace
/// is a process in the container with a network namespace of its own.
/// </summary>
public sealed class WorkspaceNetworkTests : IAsyncLifetime
{
    const string Id = "ws-net";
    static readonly IPAddress Outside = IPAddress.Parse("192.168.77.1"), Pod = IPAddress.Parse("192.168.77.2");
    readonly TempDirectory _dir = new();
    readonly NetworkNamespaces _namespaces = new();
    ContainerWorkspace? _workspace;
    DaemonProcess _daemon = null!;
    TestContainer _container = null!;
    int _outside;

    InWorkspaceService.InWorkspaceServiceClient Iws => new(_workspace!.Channel);

    public async ValueTask InitializeAsync()
    {
        _workspace = await ContainerWorkspace.StartAsync(_dir, Id);
        _daemon = _workspace.Daemon;
        _container = _workspace.Container;

        _outside = _namespaces.Create();
        NetworkNamespaces.Ip(_outside, "link", "add", "out0", "type", "veth", "peer", "name", "eth0", "netns", _container.Pid.ToString());
        NetworkNamespaces.Ip(_outside, "addr", "add", $"{Outside}/24", "dev", "out0");
        NetworkNamespaces.Ip(_outside, "link", "set", "out0", "up");
        NetworkNamespaces.Ip(_container.Pid, "link", "set", "eth0", "mtu", "1450");
        NetworkNamespaces.Ip(_container.Pid, "addr", "add", $"{Pod}/24", "dev", "eth0");
        NetworkNamespaces.Ip(_container.Pid, "link", "set", "eth0", "up");
    }

    public async ValueTask DisposeAsync()
    {
        if (_workspace is not null)
            await _workspace.DisposeAsync();
        _namespaces.Dispose();
        _dir.Dispose();
    }

    int Workspace => _container.NetChildHostPid;

    string Nft(int pid)
    {
        Tools.Require("nft", "nftables");
        return Tools.Ok("nsenter", "/", "-t", pid.ToString(), "-n", "nft", "list", "ruleset");
    }

    string Forwarding(int pid) => Tools.Ok("nsenter", "/", "-t", pid.ToString(), "-n", "cat", "/proc/sys/net/ipv4/ip_forward").Trim();

    [Fact]
    public async Task TheWorkspaceReachesTheOutsideAndInboundTcpReachesTheWorkspace()
    {
        await Iws.SetupPairVethsAsync(new SetupPairVethsRequest { Pid = _container.NetChildPid });

        string peer = NetworkNamespaces.Ip(Workspace, "-o", "addr", "show", "dev", "eth0");
        Assert.Contains("10.0.5.2/30", peer);
        Assert.Contains("mtu 1450", NetworkNamespaces.Ip(Workspace, "-o", "link", "show", "dev", "eth0"));
        Assert.Contains("state UP", NetworkNamespaces.Ip(Workspace, "-o", "link", "show", "dev", "lo") + NetworkNamespaces.Ip(Workspace, "-o", "link", "show", "dev", "eth0"));
        Assert.Contains("default via 10.0.5.1 dev eth0", NetworkNamespaces.Ip(Workspace, "route", "show", "default"));
        Assert.Contains("10.0.5.1/30", NetworkNamespaces.Ip(_container.Pid, "-o", "addr", "show", "dev", "veth0"));
        Assert.Contains("mtu 1450", NetworkNamespaces.Ip(_container.Pid, "-o", "link", "show", "dev", "veth0"));
        Assert.Equal("1", Forwarding(_container.Pid));
        Assert.Equal("0", Forwarding(Environment.ProcessId)); // the node's own forwarding is not touched
        string rules = Nft(_container.Pid);
        // nft prints the rules back as it reads them from the kernel.
        Assert.Contains("type nat hook postrouting priority srcnat", rules);
        Assert.Contains("type nat hook prerouting priority dstnat", rules);
        Assert.Contains("oifname \"eth0\" masquerade", rules);
        Assert.Matches("iifname \"eth0\" (meta l4proto tcp th|tcp) dport 1-65535 dnat to 10.0.5.2", rules);

        // Out: a connection from the workspace to the outside leaves masqueraded as the pod.
        var fromWorkspace = await ConnectAsync(server: _outside, Outside, IPAddress.Any, client: Workspace);
        Assert.Equal(Pod, fromWorkspace);

        // In: a connection from the outside to the pod's address lands in the workspace, port kept.
        var fromOutside = await ConnectAsync(server: Workspace, Pod, IPAddress.Any, client: _outside);
        Assert.Equal(Outside, fromOutside);
    }

    [Fact]
    public async Task ASecondCallIsRefusedAndTheFirstSetUpStays()
    {
        await Iws.SetupPairVethsAsync(new SetupPairVethsRequest { Pid = _container.NetChildPid });

        var e = await Assert.ThrowsAsync<RpcException>(async () => await Iws.SetupPairVethsAsync(new SetupPairVethsRequest { Pid = _container.NetChildPid }));

        Assert.Equal(StatusCode.AlreadyExists, e.StatusCode);
        Assert.Contains("already set up", e.Status.Detail);
        Assert.Single(Nft(_container.Pid).Split('\n'), l => l.Contains("masquerade"));
        Assert.Contains("10.0.5.2/30", NetworkNamespaces.Ip(Workspace, "-o", "addr", "show", "dev", "eth0"));
        Assert.Equal(Pod, await ConnectAsync(server: _outside, Outside, IPAddress.Any, client: Workspace));
    }

    [Fact]
    public async Task PidsOutsideTheContainerAreRefusedAndNothingIsMade()
    {
        foreach (long pid in (long[])[Environment.ProcessId, _daemon.Pid, 0, -1, 1L << 40])
        {
            var e = await Assert.ThrowsAsync<RpcException>(async () => await Iws.SetupPairVethsAsync(new SetupPairVethsRequest { Pid = pid }));
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        }

        AssertNothingMade();
    }

    [Fact]
    public async Task APidInThePodsOwnNetworkNamespaceIsRefused()
    {
        var e = await Assert.ThrowsAsync<RpcException>(async () => await Iws.SetupPairVethsAsync(new SetupPairVethsRequest { Pid = _container.ChildPid }));

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("network namespace of its own", e.Status.Detail);
        AssertNothingMade();
    }

    [Fact]
    public async Task APodWithoutEth0IsAFailedPreconditionAndNothingIsMade()
    {
        NetworkNamespaces.Ip(_container.Pid, "link", "del", "eth0");

        var e = await Assert.ThrowsAsync<RpcException>(async () => await Iws.SetupPairVethsAsync(new SetupPairVethsRequest { Pid = _container.NetChildPid }));

        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("has no eth0", e.Status.Detail);
        AssertNothingMade();
    }

    [Fact]
    public async Task ARefusedNatRuleUndoesThePairAndTheForwarding()
    {
        // A regular chain already named postrouting in table nat: the kernel refuses to make it a
        // NAT base chain, so the rules (the last step) fail after the pair was made.
        Tools.Require("nft", "nftables");
        Tools.Ok("nsenter", "/", "-t", _container.Pid.ToString(), "-n", "nft", "add table ip nat; add chain ip nat postrouting");

        var e = await Assert.ThrowsAsync<RpcException>(async () => await Iws.SetupPairVethsAsync(new SetupPairVethsRequest { Pid = _container.NetChildPid }));

        Assert.Equal(StatusCode.Internal, e.StatusCode);
        Assert.Contains("cannot set up the workspace NAT", e.Status.Detail);
        AssertNothingMade();
        Assert.DoesNotContain("masquerade", Nft(_container.Pid));
    }

    void AssertNothingMade()
    {
        Assert.DoesNotContain("veth0", NetworkNamespaces.Ip(_container.Pid, "-o", "link", "show"));
        Assert.DoesNotContain("eth0", NetworkNamespaces.Ip(Workspace, "-o", "link", "show"));
        Assert.Equal("0", Forwarding(_container.Pid));
    }

    // A TCP listener in one namespace, a client in another connecting to <paramref name="address"/>;
    // answers the client address the listener saw, after a byte each way.
    static async Task<IPAddress> ConnectAsync(int server, IPAddress address, IPAddress bind, int client)
    {
        using var listener = NetworkNamespaces.In(server, () =>
        {
            var l = new TcpListener(bind, 0);
            l.Start();
            return l;
        });
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accepted = listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken);
        using var connection = NetworkNamespaces.In(client, () =>
        {
            var c = new TcpClient { ReceiveTimeout = 5000, SendTimeout = 5000 };
            c.Connect(address, port);
            return c;
        });
        using var peer = await accepted.AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        await connection.GetStream().WriteAsync(new byte[] { 42 }, TestContext.Current.CancellationToken);
        var buffer = new byte[1];
        Assert.Equal(1, await peer.GetStream().ReadAsync(buffer, TestContext.Current.CancellationToken));
        Assert.Equal(42, buffer[0]);
        return ((IPEndPoint)peer.Client.RemoteEndPoint!).Address.MapToIPv4();
    }
}
