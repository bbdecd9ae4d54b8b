using Wsd.Interop;

namespace Wsd.Linux;

/// <summary>
/// Work on a container's root file system from the node: device nodes the workspace needs, and the
/// ID-mapped "mark" of its root (REF §7.4). Paths inside the container are resolved under its
/// root with openat2 RESOLVE_IN_ROOT, so the container's own symlinks cannot point the daemon
/// anywhere else.
/// </summary>
public static unsafe class ContainerRoot
{
    const uint CharDevice = 0x2000;

    /// <summary>
    /// /dev/net/tun (10:200) and, if missing, /dev/fuse (10:229), mode 0666, owned by
    /// <paramref name="owner"/>; an empty /dev/kmsg for tools that read it (REF §7.4 step 4).
    /// </summary>
    public static void PrepareDevices(string procRoot, int pid, uint owner)
    {
        int dev = OpenInRoot(procRoot, pid, "dev", OpenFlags.ReadOnly);
        try
        {
            if (!Exists(dev, "kmsg"))
                Create(dev, "kmsg", 0x8000 | 0x1A4, 0, owner); // regular file 0644
            MakeDirectory(dev, "net");
            Create(dev, "net/tun", CharDevice | 0x1B6, Device(10, 200), owner);
            Create(dev, "fuse", CharDevice | 0x1B6, Device(10, 229), owner);
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
                MountCalls.UnshareThread(MountCalls.Fs, "mark");
                int own = Directories.OpenFile("/proc/thread-self/ns/mnt");
                int theirs = Directories.OpenFile(Path.Combine(procRoot, pid.ToString(), "ns", "mnt"));
                int root = Directories.OpenPath(Path.Combine(procRoot, pid.ToString(), "root"));
                int tree;
                try
                {
                    MountCalls.Join(theirs, MountCalls.NewNamespace, "the container's mount namespace");
                    try
                    {
                        tree = MountCalls.OpenTree(root, "", MountCalls.OpenTreeClone | MountCalls.OpenTreeCloseOnExec | MountCalls.AtEmptyPath);
                    }
                    finally
                    {
                        MountCalls.Join(own, MountCalls.NewNamespace, "the daemon's mount namespace");
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

    static ulong Device(uint major, uint minor) =>
        ((ulong)(major & 0xfff) << 8) | (minor & 0xff) | ((ulong)(minor & ~0xffu) << 12) | ((ulong)(major & ~0xfffu) << 32);

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
            if (Libc.MkdirAt(dir, p, 0x1ED) != 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != Errno.EEXIST)
                throw SyscallException.FromLastError("mkdirat", "/dev/" + name);
        }
    }

    // mknod, then chmod (mknod's mode passes the umask) and chown; an existing node is kept and fixed up.
    static void Create(int dir, string name, uint mode, ulong device, uint owner)
    {
        fixed (byte* p = CStrings.Of(name))
        {
            if (Libc.MknodAt(dir, p, mode, device) != 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != Errno.EEXIST)
                throw SyscallException.FromLastError("mknodat", "/dev/" + name);
            if (Libc.FChmodAt(dir, p, mode & 0xFFF, 0) != 0)
                throw SyscallException.FromLastError("fchmodat", "/dev/" + name);
            if (Libc.FChownAt(dir, p, owner, owner, AtFlags.SymlinkNoFollow) != 0)
                throw SyscallException.FromLastError("fchownat", "/dev/" + name);
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> (relative) inside process <paramref name="pid"/>'s root with
    /// openat2 RESOLVE_IN_ROOT: "..", absolute symlinks and magic links all stay inside that root.
    /// </summary>
    public static int OpenInRoot(string procRoot, int pid, string path, int flags)
    {
        int root = Directories.Open(Path.Combine(procRoot, pid.ToString(), "root"));
        try
        {
            var how = new OpenHow
            {
                Flags = (ulong)(flags | OpenFlags.Directory | OpenFlags.CloseOnExec),
                Resolve = ResolveFlags.InRoot | ResolveFlags.NoMagicLinks,
            };
            fixed (byte* p = CStrings.Of(path))
            {
                int fd = Libc.OpenAt2(root, p, &how);
                return fd >= 0 ? fd : throw SyscallException.FromLastError("openat2", "/" + path + " in the container");
            }
        }
        finally
        {
            Libc.Close(root);
        }
    }
}
