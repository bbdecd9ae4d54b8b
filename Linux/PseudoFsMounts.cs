using Wsd.Interop;

namespace Wsd.Linux;

/// <summary>
/// Mounting a masked proc or sysfs into a workspace container, and taking one away
/// (docs/compatibility.md#proc-and-sysfs-mounts). Runs in the namespace helper (<c>wsd internal-ns</c>),
/// a process that is a member of the target's PID namespace, so the proc it mounts is that namespace's.
/// The file system is mounted on a staging directory in a private mount namespace, masked there, cloned
/// as a detached tree with open_tree, and moved onto the target inside the container's mount namespace.
/// The target is resolved inside the container's root (openat2 RESOLVE_IN_ROOT): no symlink or ".." leads
/// out of it.
/// </summary>
public static unsafe class PseudoFsMounts
{
    public const long ProcMagic = 0x9fa0, SysfsMagic = 0x62656572, NfsMagic = 0x6969;

    /// <summary>The inode number of proc's root directory (PROC_ROOT_INO).</summary>
    const ulong ProcRootInode = 1;

    static readonly string[] ProcMasked = ["acpi", "kcore", "keys", "latency_stats", "timer_list", "timer_stats", "sched_debug", "scsi"];
    static readonly string[] ProcReadOnly = ["asound", "bus", "fs", "irq", "sys", "sysrq-trigger"];
    static readonly string[] SysfsMasked = ["firmware"];

    /// <summary>A target the caller sent that cannot be used: INVALID_ARGUMENT for the RPC.</summary>
    public sealed class BadTargetException(string message) : Exception(message);

    /// <summary>Checks a target path as sent: absolute, no "..", no NUL.</summary>
    public static string RelativeTarget(string target)
    {
        if (target.Length == 0 || target[0] != '/' || target.Contains('\0'))
            throw new BadTargetException($"target \"{target}\" must be an absolute path in the workspace");
        if (target.Split('/').Any(part => part == ".."))
            throw new BadTargetException($"target \"{target}\" must not contain \"..\"");
        string relative = target.TrimStart('/');
        return relative.Length == 0 ? "." : relative;
    }

    /// <summary>
    /// Mounts <paramref name="kind"/> ("proc", "sysfs", or "nfs4" of <paramref name="source"/> with
    /// <paramref name="options"/>) in the namespaces of the process <paramref name="process"/> holds at <paramref name="target"/>
    /// in its mount namespace. sysfs and NFS are mounted from its network namespace.
    /// </summary>
    public static void Mount(string kind, ProcessHandle process, string target, string? source = null, string? options = null)
    {
        string relative = RelativeTarget(target);
        // Staging mounts go to a private copy of this process's mount namespace and vanish with it.
        NamespaceCalls.UnshareThread(NamespaceCalls.NewMount, "staging");
        MountCalls.MountFs(null, "/", null, MountCalls.Recursive | MountCalls.Private);
        if (kind is "sysfs" or "nfs4")
            NamespaceCalls.Join(process.PidFd, NamespaceCalls.NewNet, "the network namespace"); // sysfs shows, and NFS connects from, the mounting network namespace

        string staging = Directory.CreateTempSubdirectory($"wsd-{kind}-staging-").FullName;
        if (kind == "nfs4")
        {
            var (flags, data) = SplitMountOptions(options ?? "");
            MountCalls.MountFs(source, staging, kind, MountCalls.NoSuid | MountCalls.NoDev | flags, data);
        }
        else
        {
            MountCalls.MountFs(kind, staging, kind, MountCalls.NoSuid | MountCalls.NoDev | MountCalls.NoExec);
            foreach (var name in kind == "proc" ? ProcMasked : SysfsMasked)
                Mask(Path.Combine(staging, name));
        }
        if (kind == "proc")
        {
            foreach (var name in ProcReadOnly)
                MakeReadOnly(Path.Combine(staging, name));
        }
        int tree = MountCalls.OpenTree(AtFlags.CurrentDirectory, staging, MountCalls.OpenTreeClone | MountCalls.OpenTreeCloseOnExec | MountCalls.AtRecursive);
        MountCalls.TryUnmount(staging, MountCalls.Detach); // the clone lives on without it
        Directory.Delete(staging);

        int targetFd = OpenInRoot(process, relative, target);
        NamespaceCalls.Join(process.PidFd, NamespaceCalls.NewMount, "the mount namespace");
        MountCalls.MoveMount(tree, targetFd, target);
    }

    /// <summary>Removes the <paramref name="kind"/> mount at <paramref name="target"/> in the mount namespace of the process <paramref name="process"/> holds.</summary>
    public static void Unmount(string kind, ProcessHandle process, string target)
    {
        string relative = RelativeTarget(target);
        int targetFd = OpenInRoot(process, relative, target);
        long* statfs = stackalloc long[15];
        if (Libc.FStatFs(targetFd, statfs) != 0)
            throw SyscallException.FromLastError("fstatfs", target);
        long expected = kind switch { "proc" => ProcMagic, "sysfs" => SysfsMagic, _ => NfsMagic };
        if (statfs[0] != expected)
            throw new BadTargetException($"{target} is not a {kind} mount");
        // The read-only masks over proc's sys, fs, irq... are proc too, bind mounts of its
        // subdirectories; only a mount of proc's root is a proc mount that may go.
        var stat = new StatxBuffer();
        if (Libc.StatxFd(targetFd, &stat) != 0)
            throw SyscallException.FromLastError("statx", target);
        if (kind == "proc" && stat.Ino != ProcRootInode)
            throw new BadTargetException($"{target} is not a proc mount but a part of one (such as a read-only mask the daemon put there)");
        NamespaceCalls.UnshareThread(NamespaceCalls.Fs, "unmount");
        NamespaceCalls.Join(process.PidFd, NamespaceCalls.NewMount, "the mount namespace");
        MountCalls.ChangeDirectory(targetFd, target); // the mount's root: "." names exactly that mount
        int errno = MountCalls.TryUnmount(".", MountCalls.Detach);
        if (errno != 0)
            throw new SyscallException("umount2", target, errno);
    }

    // Options such as ro or noatime are mount flags, not file system data: mount(8) splits them off,
    // and NFS refuses them in its data. nosuid and nodev are always set.
    static (ulong Flags, string Data) SplitMountOptions(string options)
    {
        ulong flags = 0;
        var data = new List<string>();
        foreach (var option in options.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            switch (option)
            {
                case "ro": flags |= MountCalls.ReadOnly; break;
                case "noexec": flags |= MountCalls.NoExec; break;
                case "noatime": flags |= MountCalls.NoAtime; break;
                case "nodiratime": flags |= MountCalls.NoDirAtime; break;
                case "relatime": flags |= MountCalls.RelAtime; break;
                case "rw" or "nosuid" or "nodev": break;
                default: data.Add(option); break;
            }
        }
        return (flags, string.Join(',', data));
    }

    // A file masked by /dev/null, a directory by an empty read-only tmpfs; absent ones need nothing.
    static void Mask(string path)
    {
        if (Directory.Exists(path))
            MountCalls.MountFs("tmpfs", path, "tmpfs", MountCalls.ReadOnly | MountCalls.NoSuid | MountCalls.NoDev | MountCalls.NoExec, "size=4k,mode=555");
        else if (File.Exists(path))
            MountCalls.MountFs("/dev/null", path, null, MountCalls.Bind);
    }

    static void MakeReadOnly(string path)
    {
        if (!Path.Exists(path))
            return;
        MountCalls.MountFs(path, path, null, MountCalls.Bind | MountCalls.Recursive);
        MountCalls.MountFs(path, path, null, MountCalls.Bind | MountCalls.Remount | MountCalls.ReadOnly | MountCalls.Recursive);
    }

    static int OpenInRoot(ProcessHandle process, string relative, string target)
    {
        try
        {
            return ContainerRoot.OpenInRoot(process, relative, OpenFlags.Path);
        }
        catch (SyscallException e)
        {
            throw new BadTargetException($"target {target} cannot be used in the workspace: {e.Message}");
        }
    }
}
