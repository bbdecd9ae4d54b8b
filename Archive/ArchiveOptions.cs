namespace Wsd.Archive;

/// <summary>How a directory becomes an archive.</summary>
public sealed class ArchiveWriteOptions
{
    /// <summary>Host owners to workspace owners (docs/compatibility.md#creating-archives).</summary>
    public IdMap Uids { get; init; } = IdMap.Identity;
    public IdMap Gids { get; init; } = IdMap.Identity;
    /// <summary>Store user.* and security.capability xattrs.</summary>
    public bool Xattrs { get; init; } = true;
    /// <summary>Stats to fill as the run goes (the counts only grow), so another thread can show progress.</summary>
    public ArchiveStats? Progress { get; init; }
    /// <summary>
    /// What the names of the directories being walked may take in memory together; a directory
    /// beyond it is sorted through a spill file instead, so memory does not grow with its size.
    /// </summary>
    public long ListingMemoryBytes { get; init; } = 8 << 20;
    /// <summary>Where spill files go (nameless, O_TMPFILE): best on disk, as tmpfs pages count as memory. Default: the temp directory.</summary>
    public string? SpillDirectory { get; init; }
}

/// <summary>How an archive becomes a directory.</summary>
public sealed class ArchiveReadOptions
{
    /// <summary>Workspace owners to host owners (docs/compatibility.md#extracting-archives).</summary>
    public IdMap Uids { get; init; } = IdMap.Identity;
    public IdMap Gids { get; init; } = IdMap.Identity;
    /// <summary>Create character and block devices; when false they are skipped and counted.</summary>
    public bool AllowDevices { get; init; }
    /// <summary>Restore ownership; only root can, so the default follows the effective user.</summary>
    public bool RestoreOwners { get; init; } = Interop.Libc.GetEuid() == 0;
    /// <summary>Restore xattrs (never trusted.* nor overlay bookkeeping).</summary>
    public bool Xattrs { get; init; } = true;
    /// <summary>Largest PAX extended header accepted; a larger one is hostile or corrupt.</summary>
    public int MaxPaxHeaderBytes { get; init; } = 1 << 20;
    /// <summary>Stats to fill as the run goes (the counts only grow), so another thread can show progress.</summary>
    public ArchiveStats? Progress { get; init; }
}
