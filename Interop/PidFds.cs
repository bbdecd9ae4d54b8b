using System.Runtime.InteropServices;

namespace Wsd.Interop;

/// <summary>
/// Process descriptors (pidfd_open(2), Linux 5.3): a descriptor that keeps naming one process, where
/// a PID may name another once the first has ended. setns(2) takes one directly (Linux 5.8).
/// </summary>
public static unsafe partial class PidFds
{
    const long SysPidfdSendSignal = 424, SysPidfdOpen = 434;

    /// <summary>ioctl NS_GET_PARENT: a descriptor of the parent of a PID or user namespace.</summary>
    public const nuint NsGetParent = 0xb702;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall4(long number, long a1, long a2, long a3, long a4);

    /// <summary>A close-on-exec pidfd of <paramref name="pid"/>, or -1 with errno (ESRCH: no such process).</summary>
    public static int Open(int pid) => (int)Syscall4(SysPidfdOpen, pid, 0, 0, 0);

    /// <summary>Whether the process is still running (signal 0 sends nothing; a dead process says ESRCH).</summary>
    public static bool IsAlive(int pidFd) => Syscall4(SysPidfdSendSignal, pidFd, 0, 0, 0) == 0;
}
