using System.Runtime.InteropServices;

namespace Wsd.Interop;

/// <summary>
/// libc declarations for the file-system calls wsd makes itself. Paths are NUL-terminated UTF-8
/// byte pointers, not strings: tar names are bytes, and converting every name to a string and back
/// would allocate on the hot path. Wrappers that turn errno into exceptions live beside this file.
/// </summary>
public static unsafe partial class Libc
{
    const string Lib = "libc";

    [LibraryImport(Lib, EntryPoint = "openat", SetLastError = true)]
    public static partial int OpenAt(int dirFd, byte* path, int flags, uint mode);

    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Lib, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nint count);

    [LibraryImport(Lib, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nint count);

    [LibraryImport(Lib, EntryPoint = "pwrite", SetLastError = true)]
    public static partial nint PWrite(int fd, byte* buffer, nint count, long offset);

    [LibraryImport(Lib, EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport(Lib, EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int FTruncate(int fd, long length);

    [LibraryImport(Lib, EntryPoint = "statx", SetLastError = true)]
    public static partial int Statx(int dirFd, byte* path, int flags, uint mask, StatxBuffer* buffer);

    [LibraryImport(Lib, EntryPoint = "getdents64", SetLastError = true)]
    public static partial nint GetDents64(int fd, byte* buffer, nint size);

    [LibraryImport(Lib, EntryPoint = "mkdirat", SetLastError = true)]
    public static partial int MkdirAt(int dirFd, byte* path, uint mode);

    [LibraryImport(Lib, EntryPoint = "mknodat", SetLastError = true)]
    public static partial int MknodAt(int dirFd, byte* path, uint mode, ulong device);

    [LibraryImport(Lib, EntryPoint = "symlinkat", SetLastError = true)]
    public static partial int SymlinkAt(byte* target, int newDirFd, byte* linkPath);

    [LibraryImport(Lib, EntryPoint = "linkat", SetLastError = true)]
    public static partial int LinkAt(int oldDirFd, byte* oldPath, int newDirFd, byte* newPath, int flags);

    [LibraryImport(Lib, EntryPoint = "readlinkat", SetLastError = true)]
    public static partial nint ReadlinkAt(int dirFd, byte* path, byte* buffer, nint size);

    [LibraryImport(Lib, EntryPoint = "renameat", SetLastError = true)]
    public static partial int RenameAt(int oldDirFd, byte* oldPath, int newDirFd, byte* newPath);

    [LibraryImport(Lib, EntryPoint = "unlinkat", SetLastError = true)]
    public static partial int UnlinkAt(int dirFd, byte* path, int flags);

    [LibraryImport(Lib, EntryPoint = "fchownat", SetLastError = true)]
    public static partial int FChownAt(int dirFd, byte* path, uint uid, uint gid, int flags);

    [LibraryImport(Lib, EntryPoint = "fchown", SetLastError = true)]
    public static partial int FChown(int fd, uint uid, uint gid);

    [LibraryImport(Lib, EntryPoint = "fchmod", SetLastError = true)]
    public static partial int FChmod(int fd, uint mode);

    [LibraryImport(Lib, EntryPoint = "fchmodat", SetLastError = true)]
    public static partial int FChmodAt(int dirFd, byte* path, uint mode, int flags);

    [LibraryImport(Lib, EntryPoint = "futimens", SetLastError = true)]
    public static partial int FUtimens(int fd, TimeSpec* times);

    [LibraryImport(Lib, EntryPoint = "utimensat", SetLastError = true)]
    public static partial int UtimensAt(int dirFd, byte* path, TimeSpec* times, int flags);

    [LibraryImport(Lib, EntryPoint = "flistxattr", SetLastError = true)]
    public static partial nint FListXattr(int fd, byte* list, nint size);

    [LibraryImport(Lib, EntryPoint = "fgetxattr", SetLastError = true)]
    public static partial nint FGetXattr(int fd, byte* name, byte* value, nint size);

    [LibraryImport(Lib, EntryPoint = "fsetxattr", SetLastError = true)]
    public static partial int FSetXattr(int fd, byte* name, byte* value, nint size, int flags);

    [LibraryImport(Lib, EntryPoint = "posix_fadvise")]
    public static partial int PosixFadvise(int fd, long offset, long length, int advice);

    [LibraryImport(Lib, EntryPoint = "geteuid")]
    public static partial uint GetEuid();

    [LibraryImport(Lib, EntryPoint = "getegid")]
    public static partial uint GetEgid();

    [LibraryImport(Lib, EntryPoint = "setgroups", SetLastError = true)]
    public static partial int SetGroups(nint size, uint* groups);

    [LibraryImport(Lib, EntryPoint = "setresgid", SetLastError = true)]
    public static partial int SetResGid(uint real, uint effective, uint saved);

    [LibraryImport(Lib, EntryPoint = "setresuid", SetLastError = true)]
    public static partial int SetResUid(uint real, uint effective, uint saved);

    [LibraryImport(Lib, EntryPoint = "prctl", SetLastError = true)]
    public static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport(Lib, EntryPoint = "execvp", SetLastError = true)]
    public static partial int ExecVp(byte* file, byte** argv);

    [LibraryImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, void* argument);

    /// <summary>fstatfs(2) into a 120-byte struct statfs; f_type is its first field.</summary>
    [LibraryImport(Lib, EntryPoint = "fstatfs", SetLastError = true)]
    public static partial int FStatFs(int fd, long* buffer);

    [LibraryImport(Lib, EntryPoint = "fstatvfs", SetLastError = true)]
    public static partial int FStatVfs(int fd, StatVfs* buffer);

    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    public static partial long Syscall(long number, long a1, long a2, long a3, long a4);

    /// <summary>statx(2) of an open descriptor itself (AT_EMPTY_PATH).</summary>
    public static int StatxFd(int fd, StatxBuffer* buffer)
    {
        byte empty = 0;
        return Statx(fd, &empty, AtFlags.EmptyPath, StatxMask.BasicStats, buffer);
    }

    /// <summary>openat2(2), which glibc 2.36 has no wrapper for.</summary>
    public static int OpenAt2(int dirFd, byte* path, OpenHow* how) =>
        (int)Syscall(SyscallNumbers.OpenAt2, dirFd, (long)path, (long)how, sizeof(OpenHow));
}

/// <summary>struct statvfs (x86-64 glibc).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct StatVfs
{
    public ulong BlockSize, FragmentSize, Blocks, BlocksFree, BlocksAvailable, Files, FilesFree, FilesAvailable, FsId, Flags, NameMax;
    unsafe fixed int _spare[6];
}

/// <summary>x86-64 numbers of syscalls without a glibc wrapper.</summary>
public static class SyscallNumbers
{
    public const long OpenAt2 = 437;
    public const long QuotactlFd = 443;
}

[StructLayout(LayoutKind.Sequential)]
public struct OpenHow
{
    public ulong Flags;
    public ulong Mode;
    public ulong Resolve;
}

[StructLayout(LayoutKind.Sequential)]
public struct TimeSpec
{
    public long Seconds;
    public long Nanoseconds;
}

/// <summary>struct statx (include/uapi/linux/stat.h), 256 bytes.</summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
public struct StatxBuffer
{
    [FieldOffset(0)] public uint Mask;
    [FieldOffset(16)] public uint Nlink;
    [FieldOffset(20)] public uint Uid;
    [FieldOffset(24)] public uint Gid;
    [FieldOffset(28)] public ushort Mode;
    [FieldOffset(32)] public ulong Ino;
    [FieldOffset(40)] public ulong Size;
    /// <summary>stx_blocks: 512-byte units allocated (fewer than the size means holes).</summary>
    [FieldOffset(48)] public ulong Blocks;
    /// <summary>stx_ctime: the last change of content or metadata, which no system call lets a user set.</summary>
    [FieldOffset(96)] public long CtimeSeconds;
    [FieldOffset(104)] public uint CtimeNanoseconds;
    [FieldOffset(112)] public long MtimeSeconds;
    [FieldOffset(120)] public uint MtimeNanoseconds;
    [FieldOffset(128)] public uint RdevMajor;
    [FieldOffset(132)] public uint RdevMinor;
    [FieldOffset(136)] public uint DevMajor;
    [FieldOffset(140)] public uint DevMinor;
    /// <summary>stx_mnt_id (with <see cref="StatxMask.MountId"/>): the mount the file was reached through, which tells a bind mount from its source.</summary>
    [FieldOffset(144)] public ulong MountId;

    public readonly uint FileType => Mode & StatMode.TypeMask;
}
