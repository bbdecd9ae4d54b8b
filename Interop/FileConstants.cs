using System.Runtime.InteropServices;

namespace Wsd.Interop;

/// <summary>open(2) flags (x86-64).</summary>
public static class OpenFlags
{
    public const int ReadOnly = 0;
    public const int WriteOnly = 1;
    public const int Create = 0x40;
    public const int Exclusive = 0x80;
    public const int NoCtty = 0x100;
    public const int Truncate = 0x200;
    public const int NonBlock = 0x800;
    public const int Directory = 0x10000;
    public const int NoFollow = 0x20000;
    public const int NoAtime = 0x40000;
    public const int CloseOnExec = 0x80000;
    public const int Path = 0x200000;
}

/// <summary>The *at(2) flags and the special directory descriptor.</summary>
public static class AtFlags
{
    public const int CurrentDirectory = -100;
    public const int SymlinkNoFollow = 0x100;
    public const int RemoveDir = 0x200;
    public const int SymlinkFollow = 0x400;
    public const int EmptyPath = 0x1000;
}

/// <summary>openat2(2) resolve flags.</summary>
public static class ResolveFlags
{
    public const ulong NoXdev = 0x01;
    public const ulong NoMagicLinks = 0x02;
    public const ulong NoSymlinks = 0x04;
    public const ulong Beneath = 0x08;
    public const ulong InRoot = 0x10;
}

/// <summary>st_mode file types and permission masks.</summary>
public static class StatMode
{
    public const uint TypeMask = 0xF000;
    public const uint Socket = 0xC000;
    public const uint Symlink = 0xA000;
    public const uint Regular = 0x8000;
    public const uint BlockDevice = 0x6000;
    public const uint Directory = 0x4000;
    public const uint CharDevice = 0x2000;
    public const uint Fifo = 0x1000;
    /// <summary>Permission bits plus setuid, setgid and sticky.</summary>
    public const uint PermissionMask = 0xFFF;
}

public static class StatxMask
{
    public const uint BasicStats = 0x7FF;
    /// <summary>STATX_MNT_ID (Linux 5.8).</summary>
    public const uint MountId = 0x1000;
}

public static class Errno
{
    /// <summary>
    /// The errno the last P/Invoke on this thread left (the declarations set SetLastError). Read
    /// here so that no code outside Interop reaches for Marshal's last error; read it before any
    /// other call, which would overwrite it.
    /// </summary>
    public static int Last => Marshal.GetLastPInvokeError();

    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int ENXIO = 6;
    public const int EAGAIN = 11;
    public const int EEXIST = 17;
    public const int EXDEV = 18;
    public const int ENODEV = 19;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int EFBIG = 27;
    public const int ENOSPC = 28;
    public const int EROFS = 30;
    public const int ERANGE = 34;
    public const int ENAMETOOLONG = 36;
    public const int ENOSYS = 38;
    public const int ENOTEMPTY = 39;
    public const int ELOOP = 40;
    public const int ENODATA = 61;
    public const int EOPNOTSUPP = 95;
    public const int EDQUOT = 122;
}

public static class TimeSpecValues
{
    /// <summary>utimensat: leave this timestamp as it is.</summary>
    public const long Omit = (1L << 30) - 2;
}

public static class Devices
{
    /// <summary>glibc's makedev().</summary>
    public static ulong Make(uint major, uint minor) =>
        ((ulong)(major & 0xFFFFF000u) << 32) | ((ulong)(major & 0xFFFu) << 8) |
        ((ulong)(minor & 0xFFFFFF00u) << 12) | (minor & 0xFFu);
}
