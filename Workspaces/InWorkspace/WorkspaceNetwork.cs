using Wsd.Config;
using Wsd.Errors;
using Wsd.Linux;
using Wsd.Linux.Netlink;

namespace Wsd.Workspaces.InWorkspace;

/// <summary>
/// Gives a workspace's own network namespace a way out through its pod
/// (docs/compatibility.md#setuppairveths): a veth pair, <c>veth0</c> in the pod's namespace and
/// <c>eth0</c> in the namespace of the process the caller names, addresses from
/// <c>runtime.workspaceCidr</c>, a default route, IP forwarding in the pod's namespace, and NAT
/// (masquerade out of the pod's <c>eth0</c>, inbound TCP to the workspace). Everything is checked before
/// anything is created, and a failure part-way removes the pair again, so a namespace is set up
/// completely or not at all.
/// </summary>
public sealed class WorkspaceNetwork(WorkspaceContainers containers, RuntimeConfig runtime, ILogger<WorkspaceNetwork> log)
{
    const string PodInterface = "eth0", Veth = "veth0", Peer = "eth0", NatTable = "nat";

    public async Task SetupPairVethsAsync(string instanceId, long pid, CancellationToken cancellationToken)
    {
        var cidr = WorkspaceCidr.Parse(runtime.WorkspaceCidr);
        var container = await containers.RequireAsync(instanceId, ErrorCode.Internal, "cannot find workspace container", cancellationToken);
        using var process = containers.OpenProcess(container, pid);
        using var podNs = OpenNetworkNamespace(() => NamespaceHandle.OpenNetwork(containers.Proc.Root, container.Pid), "the workspace container");
        // Through the held process: its PID cannot have passed to another since the lookup.
        using var innerNs = OpenNetworkNamespace(() => NamespaceHandle.OpenNetwork(process), $"PID {pid}");
        if (podNs.IsSameAs(innerNs))
            throw new WsdException(ErrorCode.InvalidArgument,
                $"PID {pid} is in the pod's network namespace; SetupPairVeths needs a process in a network namespace of its own (e.g. started with unshare -n)");
        await NamespaceThread.RunAsync("wsd-veth", () => Configure(podNs, innerNs, pid, cidr));
        log.LogInformation("set up the network of {instanceId}: {veth} {vethAddress} in the pod, {peer} {peerAddress}/{prefix} for in-container PID {pid}, NAT out of {pod}",
            instanceId, Veth, cidr.Veth, Peer, cidr.Peer, cidr.PrefixLength, pid, PodInterface);
    }

    // Runs on a thread of its own: it joins the namespaces, and each netlink socket belongs to the
    // namespace its thread was in when it was opened.
    int Configure(NamespaceHandle podNs, NamespaceHandle innerNs, long pid, WorkspaceCidr cidr)
    {
        podNs.JoinOnThisThread("the pod's network namespace");
        using var pod = new Rtnetlink();
        using var nat = new Nftables();
        innerNs.JoinOnThisThread($"the network namespace of PID {pid}");
        using var inner = new Rtnetlink();
        // /proc/sys/net is the namespace of the thread that opens it: back to the pod's.
        podNs.JoinOnThisThread("the pod's network namespace");

        var podLink = pod.FindLink(PodInterface)
            ?? throw new WsdException(ErrorCode.FailedPrecondition, $"the pod's network namespace has no {PodInterface} to route the workspace through");
        if (pod.FindLink(Veth) is not null)
            throw AlreadySetUp();
        if (inner.FindLink(Peer) is not null)
            throw new WsdException(ErrorCode.AlreadyExists, $"the network namespace of PID {pid} already has an {Peer}");
        try
        {
            if (!pod.TryCreateVethPair(Veth, podLink.Mtu, Peer, innerNs.Fd))
                throw AlreadySetUp(); // a concurrent call got there first
        }
        catch (IOException e)
        {
            throw new WsdException(ErrorCode.Internal, $"cannot setup a pair of veths: {e.Message}", e);
        }

        string forwarding = Path.Combine(containers.Proc.Root, "sys", "net", "ipv4", "ip_forward");
        string? forwardingBefore = null;
        try
        {
            Step("cannot setup a pair of veths", () =>
            {
                var veth = pod.Link(Veth);
                pod.AddAddress(veth.Index, cidr.Veth, cidr.PrefixLength);
                pod.SetUp(veth.Index);
            });
            Step("cannot setup a peer veths", () =>
            {
                var eth0 = inner.Link(Peer);
                inner.AddAddress(eth0.Index, cidr.Peer, cidr.PrefixLength);
                inner.SetUp(eth0.Index);
                inner.SetUp(inner.Link("lo").Index);
                inner.ReplaceDefaultRoute(cidr.Veth, eth0.Index);
            });
            Step("cannot enable IP forwarding", () =>
            {
                forwardingBefore = File.ReadAllText(forwarding).Trim();
                File.WriteAllText(forwarding, "1\n");
            });
            Step("cannot set up the workspace NAT", () => nat
                .Table(NatTable)
                .NatChain(NatTable, "postrouting", Nftables.HookPostrouting, Nftables.PrioritySrcNat)
                .NatChain(NatTable, "prerouting", Nftables.HookPrerouting, Nftables.PriorityDstNat)
                .Masquerade(NatTable, "postrouting", PodInterface)
                .DnatTcp(NatTable, "prerouting", PodInterface, cidr.Peer)
                .Commit("the workspace NAT rules"));
        }
        catch
        {
            Undo(pod, forwarding, forwardingBefore);
            throw;
        }
        return 0;
    }

    void Undo(Rtnetlink pod, string forwarding, string? forwardingBefore)
    {
        try
        {
            if (pod.FindLink(Veth) is { } veth)
                pod.DeleteLink(veth.Index); // takes the peer with it
            if (forwardingBefore is not null and not "1")
                File.WriteAllText(forwarding, forwardingBefore + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning(e, "could not undo a half-made workspace network: {problem}", e.Message);
        }
    }

    static WsdException AlreadySetUp() =>
        new(ErrorCode.AlreadyExists, $"the workspace network is already set up: {Veth} exists in the pod's network namespace (SetupPairVeths runs once per workspace)");

    static void Step(string what, Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WsdException(ErrorCode.Internal, $"{what}: {e.Message}", e);
        }
    }

    static NamespaceHandle OpenNetworkNamespace(Func<NamespaceHandle> open, string whose)
    {
        try
        {
            return open();
        }
        catch (IOException e)
        {
            throw new WsdException(ErrorCode.Internal, $"cannot open the network namespace of {whose}: {e.Message}", e);
        }
    }
}
