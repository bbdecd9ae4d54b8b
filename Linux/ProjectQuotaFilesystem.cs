using Wsd.Interop;

namespace Wsd.Linux;

/// <summary>
/// The project quotas of the filesystem a working area lives on: whether it enforces them, which
/// project ids it has records of, a directory's project id, and a project's block limits
/// (docs/decisions.md#quota-and-disk-guard). XFS mounted with <c>prjquota</c> has them; ext4 with the
/// <c>project,quota</c> features and <c>prjquota</c> too. Holds a descriptor of the working area for its
/// lifetime.
/// </summary>
public sealed class ProjectQuotaFilesystem : IDisposable
{
    readonly int _fd;

    ProjectQuotaFilesystem(int fd, string path)
    {
        _fd = fd;
        Path = path;
    }

    public string Path { get; }

    /// <summary>The area's filesystem when it enforces project quotas; otherwise null and why not.</summary>
    public static ProjectQuotaFilesystem? Open(string path, out string whyNot)
    {
        int fd = Directories.Open(path);
        int errno = Quotas.TryGetState(fd, out ushort flags);
        whyNot = errno switch
        {
            0 when (flags & Quotas.ProjectEnforcement) != 0 => "",
            0 when (flags & Quotas.ProjectAccounting) != 0 => "project quotas are accounted but not enforced there",
            0 => "project quotas are off there",
            Errno.ENOSYS => "the filesystem or kernel has no quota support",
            _ => $"quotactl_fd: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})",
        };
        if (whyNot.Length == 0)
            return new ProjectQuotaFilesystem(fd, path);
        Libc.Close(fd);
        whyNot = $"{path} cannot limit a workspace's size: {whyNot} (it needs XFS mounted with the prjquota option)";
        return null;
    }

    /// <summary>Project ids in [first, last] that something is charged to or limited by.</summary>
    public IEnumerable<uint> InUse(uint first, uint last)
    {
        for (uint id = first; id <= last && Quotas.TryGetNext(_fd, id, out var quota) && quota.Id <= last; id = quota.Id + 1)
        {
            if (quota.InUse)
                yield return quota.Id;
        }
    }

    /// <summary>Gives <paramref name="directory"/> the project id and has everything created in it inherit it.</summary>
    public static void Assign(string directory, uint projectId)
    {
        int fd = Directories.Open(directory, followSymlink: false);
        try
        {
            var attributes = Quotas.GetXattr(fd, directory);
            attributes.ProjectId = projectId;
            attributes.Flags |= Quotas.ProjectInherit;
            Quotas.SetXattr(fd, directory, attributes);
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>Sets the project's block limits in bytes; 0 means none.</summary>
    public void SetLimits(uint projectId, long softBytes, long hardBytes) =>
        Quotas.SetBlockLimits(_fd, projectId, (ulong)softBytes, (ulong)hardBytes);

    /// <summary>The project's current limits (soft, hard) in bytes and usage in bytes.</summary>
    public (long Soft, long Hard, long Used) Read(uint projectId) =>
        Quotas.TryGet(_fd, projectId, out var quota)
            ? ((long)quota.BlockSoftLimit * 512, (long)quota.BlockHardLimit * 512, (long)quota.BlockCount * 512)
            : (0, 0, 0);

    public void Dispose() => Libc.Close(_fd);
}
