using Wsd.Interop;

namespace Wsd.Linux.Sandbox;

/// <summary>Paths a sandbox shows that lie in the workspace user's part of the tree.</summary>
public static unsafe class SandboxPaths
{
    // The workspace user controls everything below the root: no symlink, magic link or mount point
    // on the way is followed, and ".." cannot climb out.
    public static int OpenBeneath(string root, string relative)
    {
        int rootFd = Directories.OpenPath(root);
        if (relative.Length == 0)
            return rootFd;
        try
        {
            var how = new OpenHow
            {
                Flags = (ulong)(OpenFlags.Path | OpenFlags.CloseOnExec),
                Resolve = ResolveFlags.Beneath | ResolveFlags.NoSymlinks | ResolveFlags.NoMagicLinks | ResolveFlags.NoXdev,
            };
            fixed (byte* p = CStrings.Of(relative))
            {
                int fd = Libc.OpenAt2(rootFd, p, &how);
                return fd >= 0 ? fd : throw SyscallException.FromLastError("openat2 (no symlinks, beneath)", Path.Combine(root, relative));
            }
        }
        finally
        {
            Libc.Close(rootFd);
        }
    }

    public static bool IsDirectory(int fd)
    {
        StatxBuffer stat;
        if (Libc.StatxFd(fd, &stat) != 0)
            throw SyscallException.FromLastError("statx", "a sandbox bind");
        return stat.FileType == StatMode.Directory;
    }

    /// <summary>Whether <paramref name="relative"/> beneath <paramref name="root"/>, followed the same way, is a directory.</summary>
    public static bool IsDirectoryBeneath(string root, string relative)
    {
        int fd;
        try
        {
            fd = OpenBeneath(root, relative);
        }
        catch (SyscallException)
        {
            return false;
        }
        try
        {
            return IsDirectory(fd);
        }
        finally
        {
            Libc.Close(fd);
        }
    }
}
