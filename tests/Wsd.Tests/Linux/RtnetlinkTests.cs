using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Wsd.Interop;
using Wsd.Linux.Netlink;
using Wsd.Tests.Support;

namespace Wsd.Tests.Linux;

/// <summary>rtnetlink from C# against real network namespaces made by the test: a veth pair across two of them, addresses, routes, traffic.</summary>
public sealed class RtnetlinkTests : IDisposable
{
    readonly List<Process> _namespaces = [];

    public void Dispose()
    {
        foreach (var process in _namespaces)
        {
            process.Kill();
            process.WaitForExit();
            process.Dispose();
        }
    }

    int NewNetworkNamespace()
    {
        Tools.RequireRoot("network namespaces");
        var process = Process.Start(new ProcessStartInfo("unshare", ["--net", "sleep", "1000"]) { UseShellExecute = false })!;
        _namespaces.Add(process);
        while (File.ReadAllText($"/proc/{process.Id}/comm").Trim() != "sleep")
            Thread.Sleep(10);
        return process.Id;
    }

    // Namespace work on a thread of its own: setns changes only the calling thread.
    static T In<T>(int pid, Func<T> action)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                int fd = Directories.OpenFile($"/proc/{pid}/ns/net");
                MountCalls.Join(fd, MountCalls.NewNet, "net");
                Libc.Close(fd);
                result = action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        return failure is null ? result : throw failure;
    }

    static string Ip(int pid, params string[] args) => Tools.Ok("nsenter", "/", ["-t", pid.ToString(), "-n", "ip", .. args]);

    [Fact]
    public async Task AVethPairAcrossNamespacesCarriesTraffic()
    {
        Tools.Require("nsenter", "util-linux");
        Tools.Require("ip", "iproute2");
        int pod = NewNetworkNamespace(), workspace = NewNetworkNamespace();
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
