using System.Runtime.InteropServices;

namespace Wsd.Interop;

/// <summary>
/// The last steps of a sandbox before it execs an untrusted program: give up every capability for
/// good, so that neither being uid 0 inside its user namespace nor a setuid binary or file
/// capability brings one back; set resource limits; reset the signal state the runtime changed;
/// exec. Capabilities, the bounding set and no_new_privs belong to the calling thread, so the thread
/// that calls these must be the one that execs.
/// </summary>
public static unsafe partial class Confinement
{
    const int PrSetNoNewPrivs = 38, PrCapbsetDrop = 24, PrSetSecurebits = 28, PrCapAmbient = 47, PrCapAmbientClearAll = 4;
    // SECBIT_NOROOT, NO_SETUID_FIXUP and NO_CAP_AMBIENT_RAISE, each with its lock, and KEEP_CAPS locked off.
    const nuint LockedSecurebits = 0x01 | 0x02 | 0x04 | 0x08 | 0x20 | 0x40 | 0x80;
    const long SysCapset = 126, SysRtSigprocmask = 14;
    const int SigPipe = 13, SigSetMask = 2;

    public const int RlimitFsize = 1, RlimitCore = 4, RlimitNproc = 6, RlimitNofile = 7, RlimitAs = 9;

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRlimit(int resource, ulong* limit);

    [LibraryImport("libc", EntryPoint = "signal", SetLastError = true)]
    private static partial nint Signal(int signal, nint handler);

    [LibraryImport("libc", EntryPoint = "execve", SetLastError = true)]
    private static partial int ExecVe(byte* path, byte** argv, byte** envp);

    /// <summary>Drops every capability of the calling thread irrevocably and sets no_new_privs.</summary>
    public static void DropCapabilities()
    {
        if (Libc.Prctl(PrSetSecurebits, LockedSecurebits, 0, 0, 0) != 0)
            throw SyscallException.FromLastError("prctl", "PR_SET_SECUREBITS");
        for (nuint cap = 0; cap < 64; cap++)
        {
            if (Libc.Prctl(PrCapbsetDrop, cap, 0, 0, 0) != 0)
            {
                if (Marshal.GetLastPInvokeError() == Errno.EINVAL)
                    break; // past the kernel's last capability
                throw SyscallException.FromLastError("prctl", $"PR_CAPBSET_DROP {cap}");
            }
        }
        if (Libc.Prctl(PrCapAmbient, PrCapAmbientClearAll, 0, 0, 0) != 0)
            throw SyscallException.FromLastError("prctl", "PR_CAP_AMBIENT_CLEAR_ALL");
        var header = stackalloc uint[2] { 0x20080522, 0 }; // _LINUX_CAPABILITY_VERSION_3, this thread
        var data = stackalloc uint[6]; // two __user_cap_data_struct: effective, permitted, inheritable
        new Span<uint>(data, 6).Clear();
        if (Libc.Syscall(SysCapset, (long)header, (long)data, 0, 0) != 0)
            throw SyscallException.FromLastError("capset", "none");
        if (Libc.Prctl(PrSetNoNewPrivs, 1, 0, 0, 0) != 0)
            throw SyscallException.FromLastError("prctl", "PR_SET_NO_NEW_PRIVS");
    }

    /// <summary>Sets soft and hard limit of <paramref name="resource"/> to <paramref name="value"/>.</summary>
    public static void Limit(int resource, ulong value)
    {
        var limit = stackalloc ulong[2] { value, value };
        if (SetRlimit(resource, limit) != 0)
            throw SyscallException.FromLastError("setrlimit", $"resource {resource}");
    }

    /// <summary>
    /// Execs <paramref name="program"/> with exactly <paramref name="argv"/> and <paramref name="envp"/>,
    /// after restoring SIGPIPE (the runtime ignores it, and an ignored signal stays ignored across
    /// execve) and an empty signal mask. Returns only on failure.
    /// </summary>
    public static SyscallException Exec(string program, IReadOnlyList<string> argv, IReadOnlyList<string> envp)
    {
        Signal(SigPipe, 0); // SIG_DFL
        ulong empty = 0;
        Libc.Syscall(SysRtSigprocmask, SigSetMask, (long)&empty, 0, sizeof(ulong));
        using var path = new NativeStrings([program]);
        using var arguments = new NativeStrings(argv);
        using var environment = new NativeStrings(envp);
        ExecVe(path[0], arguments.Pointers, environment.Pointers);
        return SyscallException.FromLastError("execve", program);
    }
}
