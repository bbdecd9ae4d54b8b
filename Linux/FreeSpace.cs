using Wsd.Interop;

namespace Wsd.Linux;

/// <summary>Space left for unprivileged writes on the filesystem of a path (statvfs f_bavail).</summary>
public static unsafe class FreeSpace
{
    public static long AvailableBytes(string path)
    {
        int fd = Directories.Open(path);
        try
        {
            StatVfs stat;
            if (Libc.FStatVfs(fd, &stat) != 0)
                throw SyscallException.FromLastError("fstatvfs", path);
            return (long)(stat.BlocksAvailable * stat.FragmentSize);
        }
        finally
        {
            Libc.Close(fd);
        }
    }
}
