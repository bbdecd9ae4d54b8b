using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Wsd.Config;

/// <summary>
/// The addresses of a workspace's veth pair (docs/compatibility.md#setuppairveths): the address as
/// written is the base, not the masked network, as upstream parsed it; the pod side gets base+1 and the
/// workspace side base+2, both with the prefix length. Both must be host addresses of that network, which
/// a /31 or /32 (or a base too near the end) cannot give.
/// </summary>
public readonly record struct WorkspaceCidr(IPAddress Veth, IPAddress Peer, int PrefixLength)
{
    public override string ToString() => $"{Veth}/{PrefixLength} - {Peer}/{PrefixLength}";

    public static bool TryParse(string text, out WorkspaceCidr cidr, out string problem)
    {
        cidr = default;
        problem = "";
        int slash = text.IndexOf('/');
        if (slash < 0 || !IPAddress.TryParse(text[..slash], out var address) || address.AddressFamily != AddressFamily.InterNetwork
            || !int.TryParse(text[(slash + 1)..], System.Globalization.NumberStyles.None, null, out int prefix) || prefix > 32)
        {
            problem = $"'{text}' is not an IPv4 CIDR such as 10.0.5.0/30";
            return false;
        }
        uint mask = prefix == 0 ? 0 : uint.MaxValue << (32 - prefix);
        uint base_ = BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());
        uint network = base_ & mask, broadcast = network | ~mask;
        bool IsHost(ulong a) => a <= uint.MaxValue && ((uint)a & mask) == network && (prefix > 30 || (a != network && a != broadcast));
        if (!IsHost((ulong)base_ + 1) || !IsHost((ulong)base_ + 2))
        {
            problem = $"'{text}' is not big enough: the veth pair needs two host addresses after {address} in that network (a /30 or larger, e.g. 10.0.5.0/30)";
            return false;
        }
        cidr = new WorkspaceCidr(Address(base_ + 1), Address(base_ + 2), prefix);
        return true;
    }

    public static WorkspaceCidr Parse(string text) =>
        TryParse(text, out var cidr, out string problem) ? cidr : throw new FormatException(problem);

    static IPAddress Address(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }
}
