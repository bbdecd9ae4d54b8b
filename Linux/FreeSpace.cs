using Wsd.Interop;

namespace Wsd.Linux;

/// <summary>Space on the filesystem of a path (statvfs): what unprivileged writes may still use, and its size.</summary>
public static unsafe class FreeSpace
{
    public static long AvailableBytes(string path) => Of(path).Available;

    public static (long Available, long Total) Of(string path)
    {
        int fd = Directories.Open(path);
        try
        {
            StatVfs stat;
            if (Libc.FStatVfs(fd, &stat) != 0)
                throw SyscallException.FromLastError("fstatvfs", path);
            return ((long)(stat.BlocksAvailable * stat.FragmentSize), (long)(stat.Blocks * stat.FragmentSize));
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>A size for people: MiB below a GiB, else GiB, one decimal.</summary>
    public static string Format(long n) => n >= 1L << 30 ? $"{n / (double)(1L << 30):F1} GiB" : $"{n / (double)(1L << 20):F1} MiB";
}
