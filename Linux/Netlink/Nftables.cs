using System.Net;
using System.Text;
using Wsd.Interop;

namespace Wsd.Linux.Netlink;

/// <summary>
/// nftables rules through nf_tables' own netlink protocol (NETLINK_NETFILTER, subsystem
/// NFNL_SUBSYS_NFTABLES), in the network namespace of the thread that creates this object: what
/// <c>nft -f</c> would send, without the executable or libnftnl, so it works in a distroless image.
/// A batch is one kernel transaction: every rule in it applies, or none does.
/// </summary>
public sealed class Nftables : IDisposable
{
    // nfnetlink: batch delimiters and the nf_tables subsystem's message types (linux/netfilter/nf_tables.h).
    const ushort BatchBegin = 0x10, BatchEnd = 0x11, Subsystem = 10;
    const ushort NewTable = 0, NewChain = 3, NewRule = 6;
    const byte FamilyIpv4 = 2; // NFPROTO_IPV4

    const ushort TableName = 1;
    const ushort ChainTable = 1, ChainName = 3, ChainHook = 4, ChainType = 7, HookNumber = 1, HookPriority = 2;
    const ushort RuleTable = 1, RuleChain = 2, RuleExpressions = 4, ListElement = 1, ExpressionName = 1, ExpressionData = 2;
    const ushort DataValue = 1;
    const uint Register1 = 1; // NFT_REG_1, a 16-byte register

    public const uint HookPrerouting = 0, HookPostrouting = 4;
    public const int PriorityDstNat = -100, PrioritySrcNat = 100;

    readonly NetlinkSocket _socket = new(NetlinkSocket.Netfilter);
    readonly List<byte[]> _batch = [];
    uint _last;

    /// <summary>Adds table <paramref name="name"/> (family ip) to the batch; an existing one is kept.</summary>
    public Nftables Table(string name)
    {
        _batch.Add(Message(NewTable, NetlinkMessage.Create).String(TableName, name).ToArray());
        return this;
    }

    /// <summary>Adds a base chain of type nat on <paramref name="hook"/> to the batch.</summary>
    public Nftables NatChain(string table, string name, uint hook, int priority)
    {
        _batch.Add(Message(NewChain, NetlinkMessage.Create)
            .String(ChainTable, table)
            .String(ChainName, name)
            .Begin(ChainHook).UInt32BigEndian(HookNumber, hook).UInt32BigEndian(HookPriority, unchecked((uint)priority)).End()
            .String(ChainType, "nat")
            .ToArray());
        return this;
    }

    /// <summary>Appends <c>oifname "<paramref name="outInterface"/>" masquerade</c> to the chain.</summary>
    public Nftables Masquerade(string table, string chain, string outInterface)
    {
        var rule = Rule(table, chain);
        InterfaceIs(rule, MetaOutName, outInterface);
        Expression(rule, "masq", _ => { });
        _batch.Add(rule.End().ToArray());
        return this;
    }

    /// <summary>
    /// Appends <c>iifname "<paramref name="inInterface"/>" meta l4proto tcp th dport 1-65535 dnat to
    /// <paramref name="target"/></c>: every inbound TCP connection goes to that address, port kept.
    /// </summary>
    public Nftables DnatTcp(string table, string chain, string inInterface, IPAddress target)
    {
        var rule = Rule(table, chain);
        InterfaceIs(rule, MetaInName, inInterface);
        Expression(rule, "meta", m => m.UInt32BigEndian(1 /* DREG */, Register1).UInt32BigEndian(2 /* KEY */, MetaL4Proto));
        Expression(rule, "cmp", m => Compare(m, [6 /* IPPROTO_TCP */]));
        Expression(rule, "payload", m => m
            .UInt32BigEndian(1 /* DREG */, Register1)
            .UInt32BigEndian(2 /* BASE */, 2 /* transport header */)
            .UInt32BigEndian(3 /* OFFSET */, 2 /* destination port */)
            .UInt32BigEndian(4 /* LEN */, 2));
        Expression(rule, "range", m =>
        {
            m.UInt32BigEndian(1 /* SREG */, Register1).UInt32BigEndian(2 /* OP */, 0 /* NFT_RANGE_EQ */);
            Data(m, 3 /* FROM */, [0, 1]);
            Data(m, 4 /* TO */, [0xFF, 0xFF]);
        });
        Expression(rule, "immediate", m =>
        {
            m.UInt32BigEndian(1 /* DREG */, Register1);
            Data(m, 2 /* DATA */, target.GetAddressBytes());
        });
        Expression(rule, "nat", m => m
            .UInt32BigEndian(1 /* TYPE */, 1 /* NFT_NAT_DNAT */)
            .UInt32BigEndian(2 /* FAMILY */, FamilyIpv4)
            .UInt32BigEndian(3 /* REG_ADDR_MIN */, Register1));
        _batch.Add(rule.End().ToArray());
        return this;
    }

    /// <summary>Sends the batch as one transaction; a refused message fails (and undoes) all of it.</summary>
    public void Commit(string what)
    {
        var bytes = new List<byte>();
        bytes.AddRange(Delimiter(BatchBegin));
        foreach (var message in _batch)
            bytes.AddRange(message);
        bytes.AddRange(Delimiter(BatchEnd));
        _batch.Clear();
        _socket.Exchange(bytes.ToArray(), what, _last);
    }

    const uint MetaInName = 6, MetaOutName = 7, MetaL4Proto = 16;

    static void InterfaceIs(NetlinkMessage rule, uint metaKey, string name)
    {
        // The kernel loads the whole IFNAMSIZ (16-byte) name; comparing all of it, zero padding
        // included, matches that name exactly and not longer names that start with it.
        var padded = new byte[16];
        Encoding.ASCII.GetBytes(name, padded);
        Expression(rule, "meta", m => m.UInt32BigEndian(1 /* DREG */, Register1).UInt32BigEndian(2 /* KEY */, metaKey));
        Expression(rule, "cmp", m => Compare(m, padded));
    }

    static void Compare(NetlinkMessage m, byte[] value)
    {
        m.UInt32BigEndian(1 /* SREG */, Register1).UInt32BigEndian(2 /* OP */, 0 /* NFT_CMP_EQ */);
        Data(m, 3 /* DATA */, value);
    }

    static void Data(NetlinkMessage m, ushort type, byte[] value) => m.Begin(type).Attribute(DataValue, value).End();

    static void Expression(NetlinkMessage rule, string name, Action<NetlinkMessage> data)
    {
        rule.Begin(ListElement).String(ExpressionName, name).Begin(ExpressionData);
        data(rule);
        rule.End().End();
    }

    // A rule is left open at its expression list; the caller adds expressions and closes it.
    NetlinkMessage Rule(string table, string chain) =>
        Message(NewRule, NetlinkMessage.Create | NetlinkMessage.AppendRule).String(RuleTable, table).String(RuleChain, chain).Begin(RuleExpressions);

    NetlinkMessage Message(ushort type, ushort flags)
    {
        _last = _socket.NextSequence();
        // struct nfgenmsg: family, version (NFNETLINK_V0), resource id (big endian, 0 here).
        return new NetlinkMessage((ushort)((Subsystem << 8) | type), (ushort)(NetlinkMessage.Request | NetlinkMessage.Ack | flags), _last)
            .Header([FamilyIpv4, 0, 0, 0]);
    }

    byte[] Delimiter(ushort type) =>
        // The batch delimiters carry the subsystem as the nfgenmsg resource id (big endian).
        new NetlinkMessage(type, NetlinkMessage.Request, _socket.NextSequence()).Header([0, 0, 0, (byte)Subsystem]).ToArray();

    public void Dispose() => _socket.Dispose();
}
