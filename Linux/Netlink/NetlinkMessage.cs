using System.Buffers.Binary;
using System.Text;

namespace Wsd.Linux.Netlink;

/// <summary>
/// Builds one netlink message: the 16-byte nlmsghdr, a fixed family header, then attributes
/// (rtattr/nlattr: length, type, payload padded to 4 bytes), which may nest. The length fields are
/// written when a message or a nest is closed.
/// </summary>
public sealed class NetlinkMessage
{
    public const ushort Request = 0x1, Ack = 0x4, Replace = 0x100, Excl = 0x200, Create = 0x400, AppendRule = 0x800;

    readonly List<byte> _bytes = [];
    readonly Stack<int> _nests = new();

    public NetlinkMessage(ushort type, ushort flags, uint sequence)
    {
        Append(stackalloc byte[16]);
        BinaryPrimitives.WriteUInt16LittleEndian(Slice(4, 2), type);
        BinaryPrimitives.WriteUInt16LittleEndian(Slice(6, 2), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(Slice(8, 4), sequence);
    }

    /// <summary>The family header (ifinfomsg, ifaddrmsg, rtmsg) as raw bytes.</summary>
    public NetlinkMessage Header(ReadOnlySpan<byte> header)
    {
        Append(header);
        Pad();
        return this;
    }

    public NetlinkMessage Attribute(ushort type, ReadOnlySpan<byte> payload)
    {
        Span<byte> head = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(head, (ushort)(4 + payload.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(head[2..], type);
        Append(head);
        Append(payload);
        Pad();
        return this;
    }

    public NetlinkMessage String(ushort type, string value) => Attribute(type, Encoding.ASCII.GetBytes(value + "\0"));

    public NetlinkMessage UInt32(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return Attribute(type, bytes);
    }

    /// <summary>A 32-bit attribute in network byte order, as nfnetlink's families expect.</summary>
    public NetlinkMessage UInt32BigEndian(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return Attribute(type, bytes);
    }

    /// <summary>Opens a nested attribute, closed by <see cref="End"/>.</summary>
    public NetlinkMessage Begin(ushort type)
    {
        _nests.Push(_bytes.Count);
        Span<byte> head = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(head[2..], type);
        Append(head);
        return this;
    }

    public NetlinkMessage End()
    {
        int start = _nests.Pop();
        BinaryPrimitives.WriteUInt16LittleEndian(Slice(start, 2), (ushort)(_bytes.Count - start));
        return this;
    }

    public byte[] ToArray()
    {
        if (_nests.Count > 0)
            throw new InvalidOperationException("a nested attribute is still open");
        BinaryPrimitives.WriteUInt32LittleEndian(Slice(0, 4), (uint)_bytes.Count);
        return [.. _bytes];
    }

    void Append(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
            _bytes.Add(b);
    }

    void Pad()
    {
        while (_bytes.Count % 4 != 0)
            _bytes.Add(0);
    }

    Span<byte> Slice(int start, int length) => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_bytes).Slice(start, length);

    /// <summary>The attributes of a reply after its family header of <paramref name="headerLength"/> bytes: (type, payload).</summary>
    public static IEnumerable<(ushort Type, byte[] Payload)> Attributes(byte[] message, int headerLength)
    {
        int offset = 16 + ((headerLength + 3) & ~3);
        while (offset + 4 <= message.Length)
        {
            ushort length = BinaryPrimitives.ReadUInt16LittleEndian(message.AsSpan(offset));
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(message.AsSpan(offset + 2));
            if (length < 4 || offset + length > message.Length)
                yield break;
            yield return ((ushort)(type & 0x3FFF), message[(offset + 4)..(offset + length)]);
            offset += (length + 3) & ~3;
        }
    }
}
