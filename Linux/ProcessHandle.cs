using System.Text;
using Wsd.Interop;

namespace Wsd.Linux;

/// <summary>
/// One process, held by a pidfd and a descriptor of its /proc directory, so that whatever is done
/// later reaches that process and not another that was given its PID after it ended. The /proc
/// directory is opened after the pidfd and checked against it: if the process is still alive
/// afterwards, the directory is its own, and every entry opened through it (ns/*, uid_map, root)
/// is too; once the process is gone they fail (ESRCH) instead of naming a successor.
/// </summary>
public sealed unsafe class ProcessHandle : IDisposable
{
    readonly int _pidFd, _directory;

    ProcessHandle(int pid, int pidFd, int directory)
    {
        Pid = pid;
        _pidFd = pidFd;
        _directory = directory;
    }

    /// <summary>The PID as the /proc it was opened from counts it.</summary>
    public int Pid { get; }

    /// <summary>The pidfd, for setns.</summary>
    public int PidFd => _pidFd;

    /// <summary>Holds process <paramref name="pid"/> of <paramref name="proc"/>, a proc of this process's own PID namespace; null when there is none (any more).</summary>
    public static ProcessHandle? Open(ProcFs proc, int pid)
    {
        // pidfd_open counts in the caller's PID namespace, /proc in that of its mount.
        if (proc.SelfPid() != Environment.ProcessId)
            throw new IOException($"{proc.Root} is not a proc of this process's own PID namespace, so its PIDs cannot be held by pidfds");
        return Open(proc, pid, pid);
    }

    /// <summary>
    /// Holds the process that is <paramref name="pid"/> in <paramref name="proc"/> (a proc of an outer
    /// PID namespace, such as the node's) and <paramref name="ownPid"/> in the caller's own PID
    /// namespace, which must be the process's innermost one: the namespace helper's case. Null when
    /// no process is both.
    /// </summary>
    public static ProcessHandle? OpenFromInside(ProcFs proc, int pid, int ownPid)
    {
        var handle = Open(proc, pid, ownPid);
        if (handle is null)
            return null;
        try
        {
            // Both names must be one process: the directory's, alive after the pidfd was taken.
            var nsPids = handle.NsPids();
            if (nsPids.Length > 0 && nsPids[^1] == ownPid && handle.IsAlive)
                return handle;
        }
        catch (IOException)
        {
        }
        handle.Dispose();
        return null;
    }

    static ProcessHandle? Open(ProcFs proc, int pid, int ownPid)
    {
        int pidFd = PidFds.Open(ownPid);
        if (pidFd < 0)
            return Errno.Last == Errno.ESRCH ? null : throw SyscallException.FromLastError("pidfd_open", ownPid.ToString());
        fixed (byte* p = CStrings.Of(proc.PathOf(pid, "")))
        {
            int directory = Libc.OpenAt(AtFlags.CurrentDirectory, p, OpenFlags.ReadOnly | OpenFlags.Directory | OpenFlags.CloseOnExec, 0);
            if (directory >= 0 && PidFds.IsAlive(pidFd))
                return new ProcessHandle(pid, pidFd, directory);
            if (directory >= 0)
                Libc.Close(directory);
        }
        Libc.Close(pidFd);
        return null;
    }

    /// <summary>Opens an entry of the process's /proc directory ("status", "ns/net", "uid_map", "root").</summary>
    public int OpenEntry(string entry, int flags)
    {
        fixed (byte* p = CStrings.Of(entry))
        {
            int fd = Libc.OpenAt(_directory, p, flags | OpenFlags.CloseOnExec, 0);
            return fd >= 0 ? fd : throw SyscallException.FromLastError("open", $"/proc/{Pid}/{entry}");
        }
    }

    /// <summary>A small /proc text entry, whole.</summary>
    public string ReadEntry(string entry)
    {
        int fd = OpenEntry(entry, OpenFlags.ReadOnly);
        try
        {
            var text = new StringBuilder();
            byte* buffer = stackalloc byte[4096];
            while (true)
            {
                nint n = Libc.Read(fd, buffer, 4096);
                if (n < 0)
                    throw SyscallException.FromLastError("read", $"/proc/{Pid}/{entry}");
                if (n == 0)
                    return text.ToString();
                text.Append(Encoding.UTF8.GetString(buffer, (int)n));
            }
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>The PIDs of the process from the outermost PID namespace inwards (NSpid).</summary>
    public int[] NsPids()
    {
        string? line = ReadEntry("status").Split('\n').FirstOrDefault(l => l.StartsWith("NSpid:", StringComparison.Ordinal));
        return line is null ? [] : [.. line["NSpid:".Length..].Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)];
    }

    /// <summary>When the process started, in clock ticks after boot (field 22 of stat): with the PID, a name no later process has.</summary>
    public ulong StartTime()
    {
        string stat = ReadEntry("stat");
        // The command name in parentheses may hold spaces and parentheses itself: count from the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return ulong.Parse(fields[19]);
    }

    /// <summary>
    /// Whether the PID namespace at depth <paramref name="level"/> of NSpid is the one
    /// <paramref name="member"/> belongs to directly: walked up from this process's own with NS_GET_PARENT.
    /// </summary>
    public bool IsInPidNamespaceOf(ProcessHandle member, int level)
    {
        int depth = NsPids().Length - 1;
        if (depth < level)
            return false;
        int ns = OpenEntry("ns/pid", OpenFlags.ReadOnly);
        try
        {
            for (; depth > level; depth--)
            {
                int parent = Libc.Ioctl(ns, PidFds.NsGetParent, null);
                if (parent < 0)
                    throw SyscallException.FromLastError("ioctl(NS_GET_PARENT)", $"/proc/{Pid}/ns/pid");
                Libc.Close(ns);
                ns = parent;
            }
            int theirs = member.OpenEntry("ns/pid", OpenFlags.ReadOnly);
            try
            {
                return Identity(ns) == Identity(theirs);
            }
            finally
            {
                Libc.Close(theirs);
            }
        }
        finally
        {
            Libc.Close(ns);
        }
    }

    /// <summary>Whether the process is still running.</summary>
    public bool IsAlive => PidFds.IsAlive(_pidFd);

    static (uint, uint, ulong) Identity(int fd)
    {
        var stat = new StatxBuffer();
        if (Libc.StatxFd(fd, &stat) != 0)
            throw SyscallException.FromLastError("statx", "a namespace");
        return (stat.DevMajor, stat.DevMinor, stat.Ino);
    }

    public void Dispose()
    {
        Libc.Close(_directory);
        Libc.Close(_pidFd);
    }
}
