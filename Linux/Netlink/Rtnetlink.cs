using System.Buffers.Binary;
using System.Net;
using Wsd.Interop;

namespace Wsd.Linux.Netlink;

/// <summary>
/// Links, addresses and routes through rtnetlink (rtnetlink(7)), in the network namespace of the
/// thread that creates this object: what <c>ip link/addr/route</c> would do, without the executable.
/// </summary>
public sealed class Rtnetlink : IDisposable
{
    const ushort NewLink = 16, DelLink = 17, GetLink = 18, NewAddr = 20, NewRoute = 24;
    const ushort IflaIfname = 3, IflaMtu = 4, IflaLinkinfo = 18, IflaNetNsFd = 28, InfoKind = 1, InfoData = 2, VethPeer = 1;
    const ushort IfaAddress = 1, IfaLocal = 2, RtaOif = 4, RtaGateway = 5;
    const uint IffUp = 1;
    const byte AfInet = 2;

    readonly NetlinkSocket _socket = new(NetlinkSocket.Route);

    /// <summary>The index and MTU of link <paramref name="name"/>; ENODEV when there is none.</summary>
    public (int Index, uint Mtu) Link(string name)
    {
        uint sequence = _socket.NextSequence();
        var request = new NetlinkMessage(GetLink, NetlinkMessage.Request | NetlinkMessage.Ack, sequence).Header(LinkHeader(0, 0, 0)).String(IflaIfname, name).ToArray();
        var reply = _socket.Exchange(request, $"RTM_GETLINK {name}", sequence).FirstOrDefault()
            ?? throw new IOException($"RTM_GETLINK {name}: no answer");
        int index = BinaryPrimitives.ReadInt32LittleEndian(reply.AsSpan(16 + 4));
        uint mtu = NetlinkMessage.Attributes(reply, 16).Where(a => a.Type == IflaMtu).Select(a => BinaryPrimitives.ReadUInt32LittleEndian(a.Payload)).FirstOrDefault();
        return (index, mtu);
    }

    /// <summary>The index and MTU of link <paramref name="name"/>, or null when this namespace has none.</summary>
    public (int Index, uint Mtu)? FindLink(string name)
    {
        try
        {
            return Link(name);
        }
        catch (SyscallException e) when (e.Errno == Errno.ENODEV)
        {
            return null;
        }
    }

    /// <summary>Deletes link <paramref name="index"/>; for a veth, its peer in whichever namespace goes with it.</summary>
    public void DeleteLink(int index)
    {
        uint sequence = _socket.NextSequence();
        var message = new NetlinkMessage(DelLink, NetlinkMessage.Request | NetlinkMessage.Ack, sequence).Header(LinkHeader(index, 0, 0));
        _socket.Exchange(message.ToArray(), $"RTM_DELLINK {index}", sequence);
    }

    /// <summary>Creates veth <paramref name="name"/> here with its peer <paramref name="peerName"/> in the namespace <paramref name="peerNamespace"/> refers to.</summary>
    /// <summary>As <see cref="CreateVethPair"/>; false, and nothing made, when a link of either name exists already (EEXIST).</summary>
    public bool TryCreateVethPair(string name, uint mtu, string peerName, int peerNamespace)
    {
        try
        {
            CreateVethPair(name, mtu, peerName, peerNamespace);
            return true;
        }
        catch (SyscallException e) when (e.Errno == Errno.EEXIST)
        {
            return false;
        }
    }

    /// <summary>A veth pair: <paramref name="name"/> here, <paramref name="peerName"/> in the network namespace <paramref name="peerNamespace"/> refers to.</summary>
    public void CreateVethPair(string name, uint mtu, string peerName, int peerNamespace)
    {
        uint sequence = _socket.NextSequence();
        var message = new NetlinkMessage(NewLink, NetlinkMessage.Request | NetlinkMessage.Ack | NetlinkMessage.Create | NetlinkMessage.Excl, sequence)
            .Header(LinkHeader(0, 0, 0))
            .String(IflaIfname, name)
            .UInt32(IflaMtu, mtu)
            .Begin(IflaLinkinfo)
                .String(InfoKind, "veth")
                .Begin(InfoData)
                    .Begin(VethPeer).Header(LinkHeader(0, 0, 0)).String(IflaIfname, peerName).UInt32(IflaMtu, mtu).UInt32(IflaNetNsFd, (uint)peerNamespace).End()
                .End()
            .End();
        _socket.Exchange(message.ToArray(), $"RTM_NEWLINK veth {name}/{peerName}", sequence);
    }

    public void SetUp(int index)
    {
        uint sequence = _socket.NextSequence();
        var message = new NetlinkMessage(NewLink, NetlinkMessage.Request | NetlinkMessage.Ack, sequence).Header(LinkHeader(index, IffUp, IffUp));
        _socket.Exchange(message.ToArray(), $"RTM_NEWLINK up {index}", sequence);
    }

    public void AddAddress(int index, IPAddress address, int prefixLength)
    {
        uint sequence = _socket.NextSequence();
        Span<byte> header = stackalloc byte[8];
        header[0] = AfInet;
        header[1] = (byte)prefixLength;
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], index);
        var message = new NetlinkMessage(NewAddr, NetlinkMessage.Request | NetlinkMessage.Ack | NetlinkMessage.Create | NetlinkMessage.Excl, sequence)
            .Header(header)
            .Attribute(IfaLocal, address.GetAddressBytes())
            .Attribute(IfaAddress, address.GetAddressBytes());
        _socket.Exchange(message.ToArray(), $"RTM_NEWADDR {address}/{prefixLength}", sequence);
    }

    /// <summary>Adds (or replaces) the IPv4 default route via <paramref name="gateway"/> on link <paramref name="index"/>.</summary>
    public void ReplaceDefaultRoute(IPAddress gateway, int index)
    {
        uint sequence = _socket.NextSequence();
        ReadOnlySpan<byte> header = [AfInet, 0, 0, 0, 254 /* main table */, 3 /* boot */, 0 /* universe */, 1 /* unicast */, 0, 0, 0, 0];
        var message = new NetlinkMessage(NewRoute, NetlinkMessage.Request | NetlinkMessage.Ack | NetlinkMessage.Create | NetlinkMessage.Replace, sequence)
            .Header(header)
            .Attribute(RtaGateway, gateway.GetAddressBytes())
            .UInt32(RtaOif, (uint)index);
        _socket.Exchange(message.ToArray(), $"RTM_NEWROUTE default via {gateway}", sequence);
    }

    // struct ifinfomsg: family, pad, type, index, flags, change
    static byte[] LinkHeader(int index, uint flags, uint change)
    {
        var header = new byte[16];
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4), index);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), change);
        return header;
    }

    public void Dispose() => _socket.Dispose();
}
