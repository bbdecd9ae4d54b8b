using Wsd.Interop;

namespace Wsd.Linux.Sandbox;

/// <summary>
/// The inside of a sandbox (docs/security.md), run by <c>wsd internal-sandbox</c> as uid 0 of its
/// fresh user namespace, in fresh mount, PID, IPC, UTS and cgroup namespaces. It builds a new root
/// on a tmpfs holding only what git needs (the system directories read-only, a few files of /etc,
/// the harmless devices, a /proc of its own PID namespace, a small /tmp, the daemon's binary as
/// askpass program) and the binds it was given, pivots into it, detaches the old root, gives up
/// every capability and execs the program. Nothing of the node that is not listed here is reachable
/// afterwards: no /secrets, no certificates, no working area, no sockets, no node /proc.
/// </summary>
public static class SandboxRoot
{
    /// <summary>Where the daemon's binary appears inside, for git's GIT_ASKPASS.</summary>
    public const string AskPassProgram = "/run/wsd/wsd";

    /// <summary>Exit status of <c>wsd internal-sandbox</c> when the sandbox could not be built; the reason is on stderr.</summary>
    public const int SetupFailedExit = 125;

    // The new root is built on a tmpfs mounted here before the pivot; /tmp exists in every image we ship.
    const string Staging = "/tmp";
    static readonly string[] SystemDirectories = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
    static readonly string[] EtcFiles = ["/etc/passwd", "/etc/group", "/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf", "/etc/localtime"];
    static readonly string[] EtcDirectories = ["/etc/ssl", "/etc/ca-certificates", "/etc/pki"];
    static readonly string[] DeviceFiles = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"];
    static readonly string[] SearchPath = ["/usr/local/bin", "/usr/bin", "/bin"];

    // Only the system directories hold programs to run; nothing in a workspace or a remote is executed directly.
    sealed record Source(int Fd, string Target, bool IsDirectory, bool Writable, bool Executable = true);

    /// <summary>Builds the root and execs <paramref name="program"/>; returns (with the reason) only on failure.</summary>
    public static Exception EnterAndExec(IReadOnlyList<SandboxBind> binds, string workingDirectory, string[] program)
    {
        try
        {
            MountCalls.MountFs(null, "/", null, MountCalls.Recursive | MountCalls.Private);
            var sources = new List<Source>();
            var symlinks = new List<(string Path, string Target)>();
            // Everything is opened before the staging tmpfs covers /tmp: a bind may come from below it.
            foreach (var directory in SystemDirectories)
            {
                var info = new DirectoryInfo(directory);
                if (info.LinkTarget is { } target)
                    symlinks.Add((directory, target));
                else if (info.Exists)
                    sources.Add(new Source(Directories.OpenPath(directory), directory, true, false));
            }
            foreach (var file in EtcFiles.Concat(DeviceFiles).Where(File.Exists))
                sources.Add(new Source(Directories.OpenPath(file), file, false, false));
            foreach (var directory in EtcDirectories.Where(Directory.Exists))
                sources.Add(new Source(Directories.OpenPath(directory), directory, true, false));
            sources.Add(new Source(Directories.OpenPath("/proc/self/exe"), AskPassProgram, false, false));
            foreach (var bind in binds)
            {
                int fd = SandboxPaths.OpenBeneath(bind.Root, bind.Relative);
                sources.Add(new Source(fd, bind.Target, SandboxPaths.IsDirectory(fd), bind.Writable, Executable: false));
            }

            MountCalls.MountFs("tmpfs", Staging, "tmpfs", MountCalls.NoSuid | MountCalls.NoDev, "mode=0755,size=1m,nr_inodes=1024");
            foreach (var (path, target) in symlinks)
                File.CreateSymbolicLink(Staging + path, target);
            // The sandbox's own /tmp first: a bind's target may lie below /tmp (as on a node whose working area is there).
            Directory.CreateDirectory(Staging + "/tmp");
            MountCalls.MountFs("tmpfs", Staging + "/tmp", "tmpfs", MountCalls.NoSuid | MountCalls.NoDev, "mode=1777,size=64m,nr_inodes=16384");
            Directory.CreateDirectory(Staging + "/proc");
            TryMountProc(Staging + "/proc");
            foreach (var source in sources)
                Attach(source);

            Directory.SetCurrentDirectory(Staging);
            MountCalls.PivotRootHere();
            if (MountCalls.TryUnmount(".", MountCalls.Detach) is var errno and not 0)
                throw new SyscallException("umount2", "the old root", errno);
            Directory.SetCurrentDirectory("/");
            MountCalls.SetAttributes(AtFlags.CurrentDirectory, "/", MountCalls.MountAttrReadOnly | MountCalls.MountAttrNoSuid | MountCalls.MountAttrNoDev, "the sandbox root");
            Directory.SetCurrentDirectory(workingDirectory);

            // Resource limits: no core dumps of what git held, a bound on descriptors. Memory is the
            // pod's; the daemon makes the sandbox the OOM killer's first choice.
            Confinement.Limit(Confinement.RlimitCore, 0);
            Confinement.Limit(Confinement.RlimitNofile, 4096);
            Confinement.DropCapabilities();

            string executable = SearchPath.Select(dir => Path.Combine(dir, program[0])).FirstOrDefault(File.Exists)
                ?? throw new FileNotFoundException($"'{program[0]}' is not in the sandbox's {string.Join(':', SearchPath)}");
            var environment = System.Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                .Select(e => $"{e.Key}={e.Value}").ToList();
            return Confinement.Exec(executable, program, environment);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e;
        }
    }

    // A bind of the source's mount alone (no submounts), read-only unless writable, never setuid or devices.
    static void Attach(Source source)
    {
        string target = Staging + source.Target;
        // A target that an earlier bind already shows (a CA file under /etc/ssl) is mounted over as it is.
        if (source.IsDirectory && !Directory.Exists(target))
        {
            Directory.CreateDirectory(target);
        }
        else if (!source.IsDirectory && !File.Exists(target))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllBytes(target, []);
        }
        int tree = MountCalls.OpenTree(source.Fd, "", MountCalls.OpenTreeClone | MountCalls.OpenTreeCloseOnExec | MountCalls.AtEmptyPath);
        try
        {
            // Devices need their node usable; everything else is nodev.
            ulong attributes = MountCalls.MountAttrNoSuid | (source.Target.StartsWith("/dev/", StringComparison.Ordinal) ? 0 : MountCalls.MountAttrNoDev)
                | (source.Writable ? 0 : MountCalls.MountAttrReadOnly) | (source.Executable ? 0 : MountCalls.MountAttrNoExec);
            MountCalls.SetAttributes(tree, "", attributes, source.Target);
            MountCalls.MoveMount(tree, target);
        }
        finally
        {
            Libc.Close(tree);
            Libc.Close(source.Fd);
        }
    }

    // The kernel lets a user namespace mount proc only where the node's proc is fully visible; where
    // it is not (a container with masked /proc paths), git runs without one.
    static void TryMountProc(string target)
    {
        try
        {
            MountCalls.MountFs("proc", target, "proc", MountCalls.NoSuid | MountCalls.NoDev | MountCalls.NoExec);
        }
        catch (SyscallException e) when (e.Errno == Errno.EPERM)
        {
        }
    }
}
