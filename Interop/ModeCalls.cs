using System.Runtime.InteropServices;

namespace Wsd.Interop;

/// <summary>
/// Changing the mode of the very inode an O_PATH descriptor holds. fchmod(2) refuses O_PATH
/// descriptors, and fchmodat(2) by name would follow a symlink put there meanwhile; fchmodat2 (Linux
/// 6.6) takes AT_EMPTY_PATH, and before it the descriptor's /proc/self/fd magic link names the inode.
/// </summary>
public static unsafe partial class ModeCalls
{
    const long SysFchmodat2 = 452;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall4(long number, long a1, long a2, long a3, long a4);

    /// <summary>chmod of what <paramref name="pathFd"/> refers to; 0, or -1 with errno set.</summary>
    public static int ChmodDescriptor(int pathFd, uint mode)
    {
        byte empty = 0;
        if (Syscall4(SysFchmodat2, pathFd, (long)&empty, mode, AtFlags.EmptyPath) == 0)
            return 0;
        if (Marshal.GetLastPInvokeError() is not (Errno.ENOSYS or Errno.EINVAL))
            return -1;
        fixed (byte* p = CStrings.Of($"/proc/self/fd/{pathFd}"))
            return Libc.FChmodAt(AtFlags.CurrentDirectory, p, mode, 0);
    }
}
