using System.Runtime.InteropServices;

namespace Wsd.Interop;

/// <summary>
/// Starts a program in new namespaces with clone3(2) and execve(2), the way fork+exec would, but
/// with the namespace flags that .NET's Process cannot pass (a multi-threaded process cannot
/// unshare a user namespace; it can clone a child into one). The child gets a pidfd for the parent
/// to wait on and kill through, so a PID that is reused can never be hit.
///
/// Between clone3 and execve the child is a copy of a multi-threaded runtime with one thread: it
/// must not allocate, take a lock or reach a GC safe point. Every call it makes is a raw system
/// call without a GC transition, on memory prepared by the parent before the clone; it waits on a
/// pipe until the parent has written its ID maps, then execs. A failed execve reports its errno
/// through a close-on-exec pipe, whose end-of-file without data tells the parent exec succeeded.
/// </summary>
public static unsafe partial class NamespacedSpawn
{
    public const ulong NewNamespace = 0x00020000, NewCgroup = 0x02000000, NewUts = 0x04000000, NewIpc = 0x08000000,
        NewUser = 0x10000000, NewPid = 0x20000000, NewNet = 0x40000000;
    const ulong ClonePidfd = 0x1000;
    const long SysRead = 0, SysWrite = 1, SysFcntl = 72, SysDup3 = 292, SysExecve = 59, SysExitGroup = 231, SysPrctl = 157,
        SysClone3 = 435, SysCloseRange = 436, SysSetGroups = 116, SysSetResUid = 117, SysSetResGid = 119, SysPidfdSendSignal = 424, SysWaitid = 247;
    const int FDupFdCloseOnExec = 1030, CloseRangeCloexec = 4, PrSetPdeathsig = 1, SigKill = 9, SigChld = 17, PPidfd = 3, WExited = 4;

    /// <summary>Exit status of a child whose set-up before execve failed.</summary>
    public const int SetupFailedExit = 126;

    // No SetLastError: its stub keeps errno in thread-local storage, which the child must not touch.
    [LibraryImport("libc", EntryPoint = "syscall")]
    [SuppressGCTransition]
    private static partial long RawSyscall(long number, long a1, long a2, long a3);

    [LibraryImport("libc", EntryPoint = "__errno_location")]
    [SuppressGCTransition]
    private static partial int* ErrnoLocation();

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long a1, long a2, long a3, long a4, long a5);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(long* fds, nuint count, int timeoutMilliseconds);

    /// <summary>How long a child may take from clone3 to its execve: raw system calls only, so anything longer means it is stuck.</summary>
    const int ExecDeadlineMilliseconds = 30_000;

    /// <summary>A started child: its PID (in the caller's namespace) and a pidfd that refers to it alone.</summary>
    public readonly record struct Child(int Pid, int Pidfd);

    /// <summary>
    /// Clones a child into the namespaces <paramref name="namespaces"/> (which include a new user
    /// namespace); <paramref name="beforeExec"/> runs in the parent while the child waits (write its
    /// ID maps there, mapping its uid and gid 0). The child then becomes uid and gid 0 of its user
    /// namespace with no supplementary groups: until it does, it still has the parent's uid on the
    /// node, and the parent is root. Then it places <paramref name="fds"/> (source, target) and execs
    /// <paramref name="program"/>. The child gets SIGKILL when the calling thread ends, so call this
    /// from a thread that lives until the child is reaped.
    /// </summary>
    public static Child Start(ulong namespaces, string program, IReadOnlyList<string> argv, IReadOnlyList<string> envp,
        IReadOnlyList<(int Source, int Target)> fds, Action<int> beforeExec)
    {
        using var path = new NativeStrings([program]);
        using var arguments = new NativeStrings(argv);
        using var environment = new NativeStrings(envp);
        int count = fds.Count;
        var sources = stackalloc int[count];
        var targets = stackalloc int[count];
        for (int i = 0; i < count; i++)
        {
            sources[i] = fds[i].Source;
            targets[i] = fds[i].Target;
        }
        var sync = stackalloc int[2];
        var error = stackalloc int[2];
        (sync[0], sync[1]) = Pipes.Create();
        try
        {
            (error[0], error[1]) = Pipes.Create();
        }
        catch
        {
            Libc.Close(sync[0]);
            Libc.Close(sync[1]);
            throw;
        }

        Prepare();
        int pidfd = -1;
        var args = stackalloc ulong[11]; // struct clone_args, up to v2 (88 bytes)
        new Span<ulong>(args, 11).Clear();
        args[0] = namespaces | ClonePidfd;
        args[1] = (ulong)&pidfd;
        args[4] = SigChld; // exit_signal
        long pid = RawSyscall(SysClone3, (long)args, 88, 0);
        if (pid == 0)
            RunChild(sync[0], error[1], count, sources, targets, path[0], arguments.Pointers, environment.Pointers);
        int cloneErrno = *ErrnoLocation();
        Libc.Close(sync[0]);
        Libc.Close(error[1]);
        try
        {
            if (pid < 0)
                throw new SyscallException("clone3", program, cloneErrno);
            try
            {
                beforeExec((int)pid);
                byte go = 1;
                if (Libc.Write(sync[1], &go, 1) != 1)
                    throw SyscallException.FromLastError("write", "the child's start pipe");
                Libc.Close(sync[1]);
                sync[1] = -1;
                long pollFd = (uint)error[0] | (1L << 32); // struct pollfd { int fd; short events = POLLIN; short revents; }
                int ready;
                while ((ready = Poll(&pollFd, 1, ExecDeadlineMilliseconds)) < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR)
                {
                }
                if (ready == 0)
                    throw new IOException($"the child for {program} did not exec within {ExecDeadlineMilliseconds / 1000} s"); // killed and reaped below
                int childErrno = 0;
                nint read = Libc.Read(error[0], (byte*)&childErrno, sizeof(int));
                if (read == sizeof(int))
                    throw new SyscallException("execve", program, childErrno); // reaped below
                return new Child((int)pid, pidfd);
            }
            catch
            {
                Kill(pidfd);
                Wait(pidfd);
                Libc.Close(pidfd);
                throw;
            }
        }
        finally
        {
            if (sync[1] >= 0)
                Libc.Close(sync[1]);
            Libc.Close(error[0]);
        }
    }

    // Everything the child will run is compiled and bound now, in the parent: a JIT compilation or
    // a lazy symbol lookup in the child would take locks that other threads of the parent held.
    static void Prepare()
    {
        const long SysGetpid = 39;
        RawSyscall(SysGetpid, 0, 0, 0);
        _ = *ErrnoLocation();
        System.Runtime.CompilerServices.RuntimeHelpers.PrepareMethod(typeof(NamespacedSpawn).GetMethod(nameof(RunChild), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.MethodHandle);
        System.Runtime.CompilerServices.RuntimeHelpers.PrepareMethod(typeof(NamespacedSpawn).GetMethod(nameof(Fail), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.MethodHandle);
    }

    // The cloned child: raw system calls on memory the parent prepared, then execve or exit.
    static void RunChild(int sync, int error, int count, int* sources, int* targets, byte* program, byte** argv, byte** envp)
    {
        byte go = 0;
        if (RawSyscall(SysRead, sync, (long)&go, 1) != 1)
            RawSyscall(SysExitGroup, SetupFailedExit, 0, 0);
        // Refused where the parent could only deny setgroups (an unprivileged parent): its groups then stay unmapped.
        RawSyscall(SysSetGroups, 0, 0, 0);
        if (RawSyscall(SysSetResGid, 0, 0, 0) != 0 || RawSyscall(SysSetResUid, 0, 0, 0) != 0)
            Fail(error);
        // After the change of IDs, which clears it; execve keeps it for the programs that follow.
        RawSyscall(SysPrctl, PrSetPdeathsig, SigKill, 0);
        // First move every source out of the way of every target, then place them.
        for (int i = 0; i < count; i++)
        {
            long moved = RawSyscall(SysFcntl, sources[i], FDupFdCloseOnExec, 64);
            if (moved < 0)
                Fail(error);
            sources[i] = (int)moved;
        }
        for (int i = 0; i < count; i++)
        {
            if (RawSyscall(SysDup3, sources[i], targets[i], 0) < 0)
                Fail(error);
        }
        // Whatever the daemon inherited without close-on-exec (a supervisor's descriptors) stays out of the child.
        int highest = 2;
        for (int i = 0; i < count; i++)
            highest = Math.Max(highest, targets[i]);
        if (RawSyscall(SysCloseRange, highest + 1, uint.MaxValue, CloseRangeCloexec) != 0)
            Fail(error);
        RawSyscall(SysExecve, (long)program, (long)argv, (long)envp);
        Fail(error);
    }

    static void Fail(int error)
    {
        int errno = *ErrnoLocation();
        RawSyscall(SysWrite, error, (long)&errno, sizeof(int));
        RawSyscall(SysExitGroup, SetupFailedExit, 0, 0);
    }

    /// <summary>Sends SIGKILL through the pidfd; a child that already exited is not an error.</summary>
    public static void Kill(int pidfd) => Syscall(SysPidfdSendSignal, pidfd, SigKill, 0, 0, 0);

    /// <summary>Blocks until the child exits and reaps it: its exit status, or 128 + the signal that killed it.</summary>
    public static int Wait(int pidfd)
    {
        var info = stackalloc byte[128]; // siginfo_t
        while (true)
        {
            new Span<byte>(info, 128).Clear();
            if (Syscall(SysWaitid, PPidfd, pidfd, (long)info, WExited, 0) == 0)
                break;
            if (Marshal.GetLastPInvokeError() != Errno.EINTR)
                throw SyscallException.FromLastError("waitid", "sandbox child");
        }
        int code = *(int*)(info + 8), status = *(int*)(info + 24);
        return code == 1 ? status : 128 + status; // CLD_EXITED, else killed or dumped
    }
}
