using Wsd.Interop;

namespace Wsd.Linux;

/// <summary>Mounting a file system at a path the daemon owns, and taking every mount stacked there away again.</summary>
public static class MountPoints
{
    /// <summary>Mounts <paramref name="fsType"/> from <paramref name="source"/> at <paramref name="target"/> (mount(2)); throws an IOException naming both.</summary>
    public static void Mount(string source, string target, string fsType, string? data = null) =>
        MountCalls.MountFs(source, target, fsType, 0, data);

    /// <summary>
    /// Unmounts <paramref name="target"/> (lazily with <paramref name="detach"/>) until nothing is
    /// mounted there, at most <paramref name="maxStacked"/> times. A target that is not (or no longer)
    /// a mount point, or is gone, counts as unmounted. Null on success, else why not.
    /// </summary>
    public static string? UnmountAll(string target, bool detach, int maxStacked)
    {
        for (int i = 0; i < maxStacked; i++)
        {
            int errno = MountCalls.TryUnmount(target, detach ? MountCalls.Detach : 0);
            switch (errno)
            {
                case 0:
                    continue;
                case Errno.EINVAL or Errno.ENOENT: // not a mount point (any more)
                    return null;
                default:
                    return $"umount {target}: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
            }
        }
        return $"umount {target}: still mounted after {maxStacked} unmounts";
    }
}
