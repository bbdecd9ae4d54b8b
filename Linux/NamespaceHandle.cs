using Wsd.Interop;

namespace Wsd.Linux;

/// <summary>
/// A held descriptor of one namespace (<c>/proc/PID/ns/*</c>, or a new user namespace): it names
/// the same namespace for as long as it is open, whatever becomes of the process it was opened
/// through. Closed on dispose.
/// </summary>
public sealed class NamespaceHandle : IDisposable
{
    readonly int _type;
    int _fd;

    NamespaceHandle(int fd, int type)
    {
        _fd = fd;
        _type = type;
    }

    /// <summary>The descriptor, for calls that take a namespace (veth peers, ID-mapped mounts); still owned by this handle.</summary>
    public int Fd => _fd >= 0 ? _fd : throw new ObjectDisposedException(nameof(NamespaceHandle));

    /// <summary>The network namespace of the node process <paramref name="hostPid"/>, through the node's proc at <paramref name="procRoot"/>.</summary>
    public static NamespaceHandle OpenNetwork(string procRoot, int hostPid) =>
        new(Directories.OpenFile(Path.Combine(procRoot, hostPid.ToString(), "ns", "net")), NamespaceCalls.NewNet);

    /// <summary>The network namespace of the held process: its PID cannot have passed to another since it was opened.</summary>
    public static NamespaceHandle OpenNetwork(ProcessHandle process) =>
        new(process.OpenEntry("ns/net", OpenFlags.ReadOnly), NamespaceCalls.NewNet);

    /// <summary>A new user namespace whose uid_map and gid_map are <paramref name="map"/> ("inside outside count" lines).</summary>
    public static NamespaceHandle NewUser(string procRoot, string map) => new(UserNamespaces.Create(procRoot, map), 0);

    /// <summary>
    /// Moves the calling thread into the namespace (setns(2)). Only on a thread of its own
    /// (<see cref="NamespaceThread"/>): a pool thread must never change namespaces.
    /// </summary>
    public void JoinOnThisThread(string what) => NamespaceCalls.Join(Fd, _type, what);

    /// <summary>True when both handles name one namespace: their "type:[inode]" links are equal.</summary>
    public bool IsSameAs(NamespaceHandle other) => Identity == other.Identity;

    string? Identity => new FileInfo($"/proc/self/fd/{Fd}").LinkTarget;

    public void Dispose()
    {
        if (_fd >= 0)
            Libc.Close(_fd);
        _fd = -1;
    }
}
