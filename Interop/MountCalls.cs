using System.Runtime.InteropServices;

namespace Wsd.Interop;

/// <summary>
/// Mount system calls; setns and unshare are <see cref="NamespaceCalls"/>. The new mount API
/// (open_tree, move_mount, mount_setattr) has no glibc 2.36 wrappers and goes through syscall(2).
/// Every failure is a SyscallException naming the call, its path and the errno.
/// </summary>
public static unsafe partial class MountCalls
{
    public const int Detach = 2; // MNT_DETACH

    // mount(2) flags
    public const ulong ReadOnly = 1, NoSuid = 2, NoDev = 4, NoExec = 8, Remount = 32, NoAtime = 1024, NoDirAtime = 2048,
        Bind = 4096, Recursive = 16384, Private = 1 << 18, RelAtime = 1 << 21;

    // open_tree / move_mount / mount_setattr
    public const uint OpenTreeClone = 1, OpenTreeCloseOnExec = 0x80000, AtRecursive = 0x8000, AtEmptyPath = 0x1000;
    public const uint MoveMountFromEmptyPath = 0x4, MoveMountToEmptyPath = 0x40;
    public const ulong MountAttrIdmap = 0x00100000;

    // mount_setattr attributes
    public const ulong MountAttrReadOnly = 0x1, MountAttrNoSuid = 0x2, MountAttrNoDev = 0x4, MountAttrNoExec = 0x8;

    const long SysOpenTree = 428, SysMoveMount = 429, SysMountSetattr = 442, SysPivotRoot = 155;

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true)]
    private static partial int Umount2(byte* target, int flags);

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true)]
    private static partial int Mount(byte* source, byte* target, byte* fsType, ulong flags, byte* data);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall5(long number, long a1, long a2, long a3, long a4, long a5);

    [LibraryImport("libc", EntryPoint = "fchdir", SetLastError = true)]
    private static partial int FChdir(int fd);

    /// <summary>umount2(2); the errno on failure, 0 on success.</summary>
    public static int TryUnmount(string target, int flags)
    {
        fixed (byte* p = CStrings.Of(target))
            return Umount2(p, flags) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    public static void MountFs(string? source, string target, string? fsType, ulong flags, string? data = null)
    {
        fixed (byte* s = source is null ? null : CStrings.Of(source))
        fixed (byte* t = CStrings.Of(target))
        fixed (byte* f = fsType is null ? null : CStrings.Of(fsType))
        fixed (byte* d = data is null ? null : CStrings.Of(data))
        {
            if (Mount(s, t, f, flags, d) != 0)
                throw SyscallException.FromLastError($"mount({fsType ?? source ?? "bind"})", target);
        }
    }

    public static void ChangeDirectory(int fd, string what)
    {
        if (FChdir(fd) != 0)
            throw SyscallException.FromLastError("fchdir", what);
    }

    /// <summary>open_tree(2): a descriptor of the mount at <paramref name="path"/>, or a detached clone of it.</summary>
    public static int OpenTree(int dirFd, string path, uint flags)
    {
        fixed (byte* p = CStrings.Of(path))
        {
            long fd = Syscall5(SysOpenTree, dirFd, (long)p, flags, 0, 0);
            return fd >= 0 ? (int)fd : throw SyscallException.FromLastError("open_tree", path);
        }
    }

    /// <summary>move_mount(2) of the tree <paramref name="treeFd"/> onto the directory <paramref name="targetFd"/>.</summary>
    public static void MoveMount(int treeFd, int targetFd, string what)
    {
        byte empty = 0;
        if (Syscall5(SysMoveMount, treeFd, (long)&empty, targetFd, (long)&empty, MoveMountFromEmptyPath | MoveMountToEmptyPath) != 0)
            throw SyscallException.FromLastError("move_mount", what);
    }

    /// <summary>mount_setattr(2) making the detached tree <paramref name="treeFd"/> an ID-mapped mount of user namespace <paramref name="userNsFd"/>.</summary>
    public static void SetIdmap(int treeFd, int userNsFd, string what)
    {
        var attr = stackalloc ulong[4]; // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd }
        attr[0] = MountAttrIdmap;
        attr[1] = 0;
        attr[2] = 0;
        attr[3] = (ulong)userNsFd;
        byte empty = 0;
        if (Syscall5(SysMountSetattr, treeFd, (long)&empty, AtEmptyPath, (long)attr, 32) != 0)
            throw SyscallException.FromLastError("mount_setattr(MOUNT_ATTR_IDMAP)", what);
    }

    /// <summary>mount_setattr(2) setting <paramref name="set"/> (MOUNT_ATTR_*) on the mount <paramref name="treeFd"/>, or on <paramref name="path"/> relative to it.</summary>
    public static void SetAttributes(int treeFd, string path, ulong set, string what)
    {
        var attr = stackalloc ulong[4];
        attr[0] = set;
        attr[1] = attr[2] = attr[3] = 0;
        fixed (byte* p = CStrings.Of(path))
        {
            if (Syscall5(SysMountSetattr, treeFd, (long)p, path.Length == 0 ? AtEmptyPath : 0, (long)attr, 32) != 0)
                throw SyscallException.FromLastError("mount_setattr", what);
        }
    }

    /// <summary>move_mount(2) of the tree <paramref name="treeFd"/> onto the path <paramref name="target"/>.</summary>
    public static void MoveMount(int treeFd, string target)
    {
        byte empty = 0;
        fixed (byte* t = CStrings.Of(target))
        {
            if (Syscall5(SysMoveMount, treeFd, (long)&empty, AtFlags.CurrentDirectory, (long)t, MoveMountFromEmptyPath) != 0)
                throw SyscallException.FromLastError("move_mount", target);
        }
    }

    /// <summary>pivot_root(".", "."): the current directory, a mount, becomes the root; the old root is stacked under it until unmounted.</summary>
    public static void PivotRootHere()
    {
        fixed (byte* dot = CStrings.Of("."))
        {
            if (Syscall5(SysPivotRoot, (long)dot, (long)dot, 0, 0, 0) != 0)
                throw SyscallException.FromLastError("pivot_root", ".");
        }
    }
}
