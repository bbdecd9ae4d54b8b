using System.Runtime.InteropServices;

namespace Wsd.Interop;

/// <summary>
/// Project quotas through quotactl_fd(2) with the XFS quota commands (linux/dqblk_xfs.h), which
/// take a descriptor of any file on the filesystem instead of its block device, and the project
/// id of a directory through FS_IOC_FSGETXATTR/FS_IOC_FSSETXATTR. No xfs_quota executable.
/// </summary>
public static unsafe class Quotas
{
    const uint ProjectQuotaType = 2; // PRJQUOTA
    const int GetQuota = 3, SetLimits = 4, GetState = 5, GetNextQuota = 9;

    const nuint GetXattrRequest = 0x801C581F; // _IOR('X', 31, struct fsxattr)
    const nuint SetXattrRequest = 0x401C5820; // _IOW('X', 32, struct fsxattr)

    /// <summary>FS_XFLAG_PROJINHERIT: new files and directories take the directory's project id.</summary>
    public const uint ProjectInherit = 0x200;
    /// <summary>FS_QUOTA_PDQ_ACCT and FS_QUOTA_PDQ_ENFD in fs_quota_stat.qs_flags.</summary>
    public const ushort ProjectAccounting = 1 << 4, ProjectEnforcement = 1 << 5;

    // QCMD(XQM_CMD(n), PRJQUOTA)
    static uint Command(int xfsCommand) => ((uint)(('X' << 8) + xfsCommand) << 8) | ProjectQuotaType;

    static int QuotactlFd(int fd, int xfsCommand, uint id, void* argument) =>
        (int)Libc.Syscall(SyscallNumbers.QuotactlFd, fd, Command(xfsCommand), id, (long)argument);

    /// <summary>The quota state flags of the filesystem <paramref name="fd"/> is on; the errno on failure.</summary>
    public static int TryGetState(int fd, out ushort flags)
    {
        var state = stackalloc byte[80]; // struct fs_quota_stat; qs_flags at offset 2
        new Span<byte>(state, 80).Clear();
        state[0] = 1; // FS_QSTAT_VERSION
        flags = 0;
        if (QuotactlFd(fd, GetState, 0, state) != 0)
            return Marshal.GetLastPInvokeError();
        flags = *(ushort*)(state + 2);
        return 0;
    }

    /// <summary>Sets a project's block limits, in bytes (0 = none).</summary>
    public static void SetBlockLimits(int fd, uint projectId, ulong softBytes, ulong hardBytes)
    {
        var quota = new FsDiskQuota
        {
            Version = 1, // FS_DQUOT_VERSION
            Flags = 2, // FS_PROJ_QUOTA
            FieldMask = FsDiskQuota.BlockSoft | FsDiskQuota.BlockHard,
            Id = projectId,
            BlockSoftLimit = BasicBlocks(softBytes),
            BlockHardLimit = BasicBlocks(hardBytes),
        };
        if (QuotactlFd(fd, SetLimits, projectId, &quota) != 0)
            throw SyscallException.FromLastError("quotactl_fd(Q_XSETQLIM)", $"project {projectId}");
    }

    /// <summary>A project's limits and usage; false when the filesystem has no record of it.</summary>
    public static bool TryGet(int fd, uint projectId, out FsDiskQuota quota) => TryGet(fd, GetQuota, projectId, out quota);

    /// <summary>The first project at or above <paramref name="projectId"/> the filesystem has a record of; false when none.</summary>
    public static bool TryGetNext(int fd, uint projectId, out FsDiskQuota quota) => TryGet(fd, GetNextQuota, projectId, out quota);

    static bool TryGet(int fd, int command, uint projectId, out FsDiskQuota quota)
    {
        FsDiskQuota result = default;
        if (QuotactlFd(fd, command, projectId, &result) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            quota = default;
            return errno == Errno.ENOENT ? false : throw new SyscallException("quotactl_fd(Q_XGETQUOTA)", $"project {projectId}", errno);
        }
        quota = result;
        return true;
    }

    // The XFS interface counts 512-byte basic blocks.
    static ulong BasicBlocks(ulong bytes) => (bytes + 511) / 512;

    public static FsXattr GetXattr(int fd, string path)
    {
        FsXattr attributes;
        if (Libc.Ioctl(fd, GetXattrRequest, &attributes) != 0)
            throw SyscallException.FromLastError("ioctl(FS_IOC_FSGETXATTR)", path);
        return attributes;
    }

    public static void SetXattr(int fd, string path, FsXattr attributes)
    {
        if (Libc.Ioctl(fd, SetXattrRequest, &attributes) != 0)
            throw SyscallException.FromLastError("ioctl(FS_IOC_FSSETXATTR)", path);
    }
}

/// <summary>struct fs_disk_quota (112 bytes); only the fields wsd reads or writes are named.</summary>
[StructLayout(LayoutKind.Sequential, Size = 112)]
public struct FsDiskQuota
{
    public const ushort BlockSoft = 1 << 2, BlockHard = 1 << 3;

    public sbyte Version;
    public sbyte Flags;
    public ushort FieldMask;
    public uint Id;
    public ulong BlockHardLimit, BlockSoftLimit, InodeHardLimit, InodeSoftLimit, BlockCount, InodeCount;

    /// <summary>Whether anything is charged to the project or limits it.</summary>
    public readonly bool InUse => BlockCount != 0 || InodeCount != 0 || BlockHardLimit != 0 || BlockSoftLimit != 0 || InodeHardLimit != 0 || InodeSoftLimit != 0;
}

/// <summary>struct fsxattr (28 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FsXattr
{
    public uint Flags, ExtentSize, Extents, ProjectId, CowExtentSize;
    fixed byte _pad[8];
}
