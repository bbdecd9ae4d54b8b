using System.Runtime.InteropServices;

namespace Wsd.Interop;

/// <summary>
/// setns(2) and unshare(2), for the calling thread only: the callers run them on a thread of their
/// own (Linux.NamespaceThread), because a .NET process is multi-threaded
/// (docs/platform.md#namespaces-in-a-multi-threaded-process).
/// </summary>
public static unsafe partial class NamespaceCalls
{
    // CLONE_* flags of setns and unshare
    public const int NewMount = 0x00020000, NewPid = 0x20000000, NewNet = 0x40000000, Fs = 0x00000200;

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int type);

    [LibraryImport("libc", EntryPoint = "unshare", SetLastError = true)]
    private static partial int Unshare(int flags);

    /// <summary>Joins the namespace <paramref name="fd"/> refers to, for the calling thread.</summary>
    public static void Join(int fd, int type, string what)
    {
        if (SetNs(fd, type) != 0)
            throw SyscallException.FromLastError("setns", what);
    }

    /// <summary>Joins the namespace at <paramref name="path"/> (e.g. /proc/PID/ns/net), for the calling thread.</summary>
    public static void Join(string path, int type)
    {
        int fd = Directories.OpenFile(path);
        try
        {
            Join(fd, type, path);
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    public static void UnshareThread(int flags, string what)
    {
        if (Unshare(flags) != 0)
            throw SyscallException.FromLastError("unshare", what);
    }
}
