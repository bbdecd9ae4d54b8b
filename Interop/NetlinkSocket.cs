using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Wsd.Interop;

/// <summary>
/// A netlink socket (.NET's Socket has no AF_NETLINK) for request/acknowledge exchanges: each
/// request asks for an ACK, and an NLMSG_ERROR with a non-zero code becomes a SyscallException
/// carrying that errno. It belongs to the network namespace of the thread that opened it.
/// </summary>
public sealed unsafe partial class NetlinkSocket : IDisposable
{
    const int AfNetlink = 16, SockRaw = 3, SockCloexec = 0x80000;
    public const int Route = 0, Netfilter = 12;
    const ushort NlmsgError = 2, NlmsgDone = 3;

    readonly int _fd;
    uint _sequence;

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetSockOpt(int fd, int level, int name, long* value, int length);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static partial nint Send(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static partial nint Recv(int fd, byte* buffer, nint length, int flags);

    public NetlinkSocket(int protocol)
    {
        _fd = Socket(AfNetlink, SockRaw | SockCloexec, protocol);
        if (_fd < 0)
            throw SyscallException.FromLastError("socket(AF_NETLINK)", protocol.ToString());
        // A reply that never comes (a request the kernel answers differently than expected) is an
        // error after 10 s, not a hang: SO_RCVTIMEO with struct timeval { 10, 0 }.
        long* timeout = stackalloc long[2];
        timeout[0] = 10;
        timeout[1] = 0;
        if (SetSockOpt(_fd, 1, 20, timeout, 16) != 0)
            throw SyscallException.FromLastError("setsockopt(SO_RCVTIMEO)", "netlink");
    }

    public uint NextSequence() => ++_sequence;

    /// <summary>Sends one message (or a batch) and collects every reply message up to the ACK or NLMSG_DONE.</summary>
    public List<byte[]> Exchange(ReadOnlySpan<byte> request, string what, uint lastSequence)
    {
        fixed (byte* p = request)
        {
            if (Send(_fd, p, request.Length, 0) != request.Length)
                throw SyscallException.FromLastError("send(netlink)", what);
        }
        var replies = new List<byte[]>();
        var buffer = new byte[65536];
        while (true)
        {
            nint n;
            fixed (byte* p = buffer)
                n = Recv(_fd, p, buffer.Length, 0);
            if (n < 0)
                throw SyscallException.FromLastError("recv(netlink)", what);
            for (int offset = 0; offset + 16 <= n;)
            {
                var span = buffer.AsSpan(offset, (int)n - offset);
                uint length = BinaryPrimitives.ReadUInt32LittleEndian(span);
                ushort type = BinaryPrimitives.ReadUInt16LittleEndian(span[4..]);
                uint sequence = BinaryPrimitives.ReadUInt32LittleEndian(span[8..]);
                if (length < 16 || length > span.Length)
                    throw new IOException($"{what}: a malformed netlink reply");
                if (type == NlmsgError)
                {
                    int error = BinaryPrimitives.ReadInt32LittleEndian(span[16..]);
                    if (error != 0)
                        throw new SyscallException(what, "netlink", -error);
                    if (sequence == lastSequence)
                        return replies;
                }
                else if (type == NlmsgDone)
                {
                    return replies;
                }
                else
                {
                    replies.Add(span[..(int)length].ToArray());
                }
                offset += (int)((length + 3) & ~3u);
            }
        }
    }

    public void Dispose() => Libc.Close(_fd);
}
