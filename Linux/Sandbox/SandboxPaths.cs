using Wsd.Interop;

namespace Wsd.Linux.Sandbox;

/// <summary>Paths a sandbox shows that lie in the workspace user's part of the tree.</summary>
public static unsafe class SandboxPaths
{
    /// <summary>An O_PATH descriptor of <paramref name="relative"/> beneath the trusted <paramref name="root"/>, through <see cref="BeneathRoot"/>: no symlink on the way, no ".." out.</summary>
    public static int OpenBeneath(string root, string relative)
    {
        int rootFd = Directories.OpenPath(root);
        if (relative.Length == 0)
            return rootFd;
        try
        {
            return BeneathRoot.Open(rootFd, relative, OpenFlags.Path);
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
