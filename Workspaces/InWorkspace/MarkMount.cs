using Wsd.Interop;

namespace Wsd.Workspaces.InWorkspace;

/// <summary>
/// The workspace's shifted root, mounted at &lt;service dir&gt;/mark by PrepareForUserNS, and its
/// removal at Teardown (REF §7.11): a mark that is already gone (never mounted, unmounted before,
/// or the directory removed) counts as removed.
/// </summary>
public static class MarkMount
{
    public const string Name = "mark";

    public static string PathIn(string serviceDirectory) => Path.Combine(serviceDirectory, Name);

    /// <summary>Unmounts the mark (lazily with <paramref name="detach"/>); null on success, else why not.</summary>
    public static string? Unmount(string serviceDirectory, bool detach = false)
    {
        string mark = PathIn(serviceDirectory);
        int errno = MountCalls.TryUnmount(mark, detach ? MountCalls.Detach : 0);
        return errno switch
        {
            0 or Errno.EINVAL or Errno.ENOENT => null, // EINVAL: not a mount point (any more)
            _ => $"umount {mark}: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})",
        };
    }
}
