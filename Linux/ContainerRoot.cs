using Wsd.Interop;

namespace Wsd.Linux;

/// <summary>
/// Work on a container's root file system from the node: device nodes the workspace needs, and the
/// ID-mapped "mark" of its root (docs/compatibility.md#prepareforuserns). Paths inside the container are
/// resolved under its root with openat2 RESOLVE_IN_ROOT, so the container's own symlinks cannot point the
/// daemon anywhere else.
/// </summary>
public static unsafe class ContainerRoot
{
    /// <summary>A character device anyone in the container may open (crw-rw-rw-), as /dev/net/tun and /dev/fuse are.</summary>
    const uint SharedCharDevice = StatMode.CharDevice | 0x1B6;

    /// <summary>
    /// /dev/net/tun (10:200) and, if missing, /dev/fuse (10:229), mode 0666, owned by
    /// <paramref name="owner"/>; an empty /dev/kmsg for tools that read it
    /// (docs/compatibility.md#prepareforuserns). The container's /dev is its user's: /dev and /dev/net
    /// are opened inside its root with no symlinks at all, and each node is checked and fixed up through
    /// a descriptor of what is there, so no symlink planted in /dev can make root create, chmod or chown
    /// anything elsewhere.
    /// </summary>
    public static void PrepareDevices(string procRoot, int pid, uint owner)
    {
        int dev = OpenInRoot(procRoot, pid, "dev", OpenFlags.ReadOnly, noSymlinks: true);
        try
        {
            if (!Exists(dev, "kmsg"))
                CreateNode(dev, "kmsg", StatMode.Regular | 0x1A4, 0, owner, "/dev/kmsg"); // 0644
            MakeDirectory(dev, "net");
            int net = BeneathRoot.Open(dev, "net", OpenFlags.ReadOnly | OpenFlags.Directory | OpenFlags.NoFollow, "/dev/net in the container");
            try
            {
                CreateNode(net, "tun", SharedCharDevice, Devices.Make(10, 200), owner, "/dev/net/tun");
            }
            finally
            {
                Libc.Close(net);
            }
            CreateNode(dev, "fuse", SharedCharDevice, Devices.Make(10, 229), owner, "/dev/fuse");
        }
        finally
        {
            Libc.Close(dev);
        }
    }

    /// <summary>
    /// Mounts the container's root at <paramref name="mark"/> (a directory in the daemon's mount
    /// namespace), ID-mapped through user namespace <paramref name="userNs"/>. A mount can be cloned
    /// only from within its own mount namespace, so a dedicated thread joins the container's, clones
    /// its root, and returns to the daemon's before attaching the clone.
    /// </summary>
    public static void MountIdmapped(string procRoot, int pid, int userNs, string mark)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                NamespaceCalls.UnshareThread(NamespaceCalls.Fs, "mark");
                int own = Directories.OpenFile("/proc/thread-self/ns/mnt");
                int theirs = Directories.OpenFile(Path.Combine(procRoot, pid.ToString(), "ns", "mnt"));
                int root = Directories.OpenPath(Path.Combine(procRoot, pid.ToString(), "root"));
                int tree;
                try
                {
                    NamespaceCalls.Join(theirs, NamespaceCalls.NewMount, "the container's mount namespace");
                    try
                    {
                        tree = MountCalls.OpenTree(root, "", MountCalls.OpenTreeClone | MountCalls.OpenTreeCloseOnExec | MountCalls.AtEmptyPath);
                    }
                    finally
                    {
                        NamespaceCalls.Join(own, NamespaceCalls.NewMount, "the daemon's mount namespace");
                    }
                }
                finally
                {
                    Libc.Close(root);
                    Libc.Close(theirs);
                    Libc.Close(own);
                }
                try
                {
                    MountCalls.SetIdmap(tree, userNs, mark);
                    int target = Directories.Open(mark, followSymlink: false);
                    try
                    {
                        MountCalls.MoveMount(tree, target, mark);
                    }
                    finally
                    {
                        Libc.Close(target);
                    }
                }
                finally
                {
                    Libc.Close(tree);
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { Name = "wsd-mark" };
        thread.Start();
        thread.Join();
        if (failure is not null)
            throw failure is IOException ? failure : new IOException(failure.Message, failure);
    }

    static bool Exists(int dir, string name)
    {
        var buffer = new StatxBuffer();
        fixed (byte* p = CStrings.Of(name))
            return Libc.Statx(dir, p, AtFlags.SymlinkNoFollow, StatxMask.BasicStats, &buffer) == 0;
    }

    static void MakeDirectory(int dir, string name)
    {
        fixed (byte* p = CStrings.Of(name))
        {
            if (Libc.MkdirAt(dir, p, 0x1ED) != 0 && Errno.Last != Errno.EEXIST)
                throw SyscallException.FromLastError("mkdirat", "/dev/" + name);
        }
    }

    // mknod (an existing node is kept), then chmod (mknod's mode passes the umask) and chown of the
    // node through an O_PATH descriptor of it, once fstat says it is the node wanted: a symlink or
    // any other file in its place is an error and left as it is.
    static void CreateNode(int dir, string name, uint mode, ulong device, uint owner, string shown)
    {
        fixed (byte* p = CStrings.Of(name))
        {
            if (Libc.MknodAt(dir, p, mode, device) != 0 && Errno.Last != Errno.EEXIST)
                throw SyscallException.FromLastError("mknodat", shown);
            int fd = BeneathRoot.TryOpenEntry(dir, p, OpenFlags.Path, out int errno);
            if (fd < 0)
                throw new SyscallException("openat", shown, errno);
            try
            {
                var stat = new StatxBuffer();
                if (Libc.StatxFd(fd, &stat) != 0)
                    throw SyscallException.FromLastError("statx", shown);
                bool wanted = stat.FileType == (mode & StatMode.TypeMask)
                    && (stat.FileType != StatMode.CharDevice || Devices.Make(stat.RdevMajor, stat.RdevMinor) == device);
                if (!wanted)
                    throw new IOException($"{shown} exists and is not the {(device == 0 ? "regular file" : "device node")} it should be; it is left alone");
                if (ModeCalls.ChmodDescriptor(fd, mode & StatMode.PermissionMask) != 0)
                    throw SyscallException.FromLastError("fchmodat2", shown);
                byte empty = 0;
                if (Libc.FChownAt(fd, &empty, owner, owner, AtFlags.EmptyPath) != 0)
                    throw SyscallException.FromLastError("fchownat", shown);
            }
            finally
            {
                Libc.Close(fd);
            }
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> (relative) inside process <paramref name="pid"/>'s root with
    /// openat2 RESOLVE_IN_ROOT: "..", absolute symlinks and magic links all stay inside that root;
    /// with <paramref name="noSymlinks"/>, a symlink anywhere on the way is an error (ELOOP).
    /// </summary>
    public static int OpenInRoot(string procRoot, int pid, string path, int flags, bool noSymlinks = false) =>
        OpenInRoot(Directories.Open(Path.Combine(procRoot, pid.ToString(), "root")), path, flags, noSymlinks);

    /// <summary>As <see cref="OpenInRoot(string, int, string, int, bool)"/>, in the root of the process <paramref name="process"/> holds.</summary>
    public static int OpenInRoot(ProcessHandle process, string path, int flags, bool noSymlinks = false) =>
        OpenInRoot(process.OpenEntry("root", OpenFlags.ReadOnly | OpenFlags.Directory), path, flags, noSymlinks);

    // Takes over (and closes) the root descriptor.
    static int OpenInRoot(int root, string path, int flags, bool noSymlinks)
    {
        try
        {
            return BeneathRoot.OpenInRoot(root, path, flags | OpenFlags.Directory, noSymlinks, "/" + path + " in the container");
        }
        finally
        {
            Libc.Close(root);
        }
    }
}
