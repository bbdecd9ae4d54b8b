using System.Runtime.InteropServices;

namespace Wsd.Interop;

/// <summary>
/// A user namespace with given ID maps, held as a descriptor: what an ID-mapped mount takes. A .NET
/// process cannot unshare(CLONE_NEWUSER) (it is multi-threaded), so a child is cloned into a new
/// user namespace and does nothing but wait; the parent writes its maps, opens its namespace and
/// kills it. The child runs no managed code that could touch the runtime: clone3 and pause are
/// called without a GC transition, and it never returns from pause.
/// </summary>
public static unsafe partial class UserNamespaces
{
    const long SysClone3 = 435, SysPause = 34, SysExit = 60;
    const ulong CloneNewUser = 0x10000000;
    const int SigKill = 9, SigChld = 17;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    [SuppressGCTransition]
    private static partial long RawSyscall(long number, long a1, long a2);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    private static partial int WaitPid(int pid, int* status, int options);

    /// <summary>Opens a new user namespace whose uid_map and gid_map are <paramref name="map"/> ("inside outside count" lines).</summary>
    public static int Create(string procRoot, string map)
    {
        var args = stackalloc ulong[11]; // struct clone_args, v0 (88 bytes)
        new Span<ulong>(args, 11).Clear();
        args[0] = CloneNewUser;
        args[4] = SigChld; // exit_signal
        long pid = RawSyscall(SysClone3, (long)args, 88);
        if (pid == 0)
            WaitToBeKilled();
        if (pid < 0)
            throw SyscallException.FromLastError("clone3(CLONE_NEWUSER)", "user namespace");
        try
        {
            string dir = Path.Combine(procRoot, pid.ToString());
            File.WriteAllText(Path.Combine(dir, "uid_map"), map);
            File.WriteAllText(Path.Combine(dir, "gid_map"), map);
            return Directories.OpenFile(Path.Combine(dir, "ns", "user"));
        }
        finally
        {
            Kill((int)pid, SigKill);
            int status;
            WaitPid((int)pid, &status, 0);
        }
    }

    // The cloned child: only raw system calls, never back into the runtime.
    static void WaitToBeKilled()
    {
        RawSyscall(SysPause, 0, 0);
        RawSyscall(SysExit, 0, 0);
    }
}
