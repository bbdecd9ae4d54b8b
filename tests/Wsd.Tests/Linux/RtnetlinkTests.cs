using System.Net;
using System.Net.Sockets;
using Wsd.Interop;
using Wsd.Linux.Netlink;
using Wsd.Tests.Support;

namespace Wsd.Tests.Linux;

/// <summary>rtnetlink from C# against real network namespaces made by the test: a veth pair across two of them, addresses, routes, traffic.</summary>
public sealed class RtnetlinkTests : IDisposable
{
    readonly NetworkNamespaces _namespaces = new();

    public void Dispose() => _namespaces.Dispose();

    static T In<T>(int pid, Func<T> action) => NetworkNamespaces.In(pid, action);

    static string Ip(int pid, params string[] args) => NetworkNamespaces.Ip(pid, args);

    [Fact]
    public async Task AVethPairAcrossNamespacesCarriesTraffic()
    {
        int pod = _namespaces.Create(), workspace = _namespaces.Create();
        int workspaceNs = Directories.OpenFile($"/proc/{workspace}/ns/net");
        try
        {
            In(pod, () =>
            {
                using var rt = new Rtnetlink();
                rt.CreateVethPair("veth0", 1400, "eth0", workspaceNs);
                var veth = rt.Link("veth0");
                rt.AddAddress(veth.Index, IPAddress.Parse("10.0.5.1"), 30);
                rt.SetUp(veth.Index);
                var again = Assert.Throws<SyscallException>(() => rt.CreateVethPair("veth0", 1400, "eth0", workspaceNs));
                Assert.Equal(Errno.EEXIST, again.Errno);
                Assert.False(rt.TryCreateVethPair("veth0", 1400, "eth0", workspaceNs));
                return 0;
            });
        }
        finally
        {
            Libc.Close(workspaceNs);
        }
        uint mtu = In(workspace, () =>
        {
            using var rt = new Rtnetlink();
            var eth0 = rt.Link("eth0");
            rt.AddAddress(eth0.Index, IPAddress.Parse("10.0.5.2"), 30);
            rt.SetUp(eth0.Index);
            rt.SetUp(rt.Link("lo").Index);
            rt.ReplaceDefaultRoute(IPAddress.Parse("10.0.5.1"), eth0.Index);
            return eth0.Mtu;
        });

        Assert.Equal(1400u, mtu);
        Assert.Contains("10.0.5.2/30", Ip(workspace, "-o", "-4", "addr", "show", "dev", "eth0"));
        Assert.Contains("default via 10.0.5.1 dev eth0", Ip(workspace, "route", "show", "default"));
        Assert.Contains("10.0.5.1/30", Ip(pod, "-o", "-4", "addr", "show", "dev", "veth0"));

        // A listener in the workspace's namespace, a client in the pod's: the pair carries it.
        using var listener = In(workspace, () =>
        {
            var l = new TcpListener(IPAddress.Parse("10.0.5.2"), 0);
            l.Start();
            return l;
        });
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accepted = listener.AcceptTcpClientAsync();
        using var client = In(pod, () =>
        {
            var c = new TcpClient();
            c.Connect(IPAddress.Parse("10.0.5.2"), port);
            return c;
        });
        using var connection = await accepted.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.True(connection.Connected);
    }
}
