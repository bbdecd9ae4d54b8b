using Wsd.Config;
using Wsd.Errors;
using Wsd.Linux;

namespace Wsd.Workspaces.InWorkspace;

/// <summary>
/// What the in-workspace service does for the workspace whose socket a call came in on
/// (docs/compatibility.md#in-workspace-service, docs/decisions.md#in-workspace-service). The caller is
/// untrusted workspace code: it names only PIDs inside its own container, and every ID, path and option
/// it sends is checked before anything privileged happens.
/// </summary>
public sealed class InWorkspaceOperations(
    WorkspaceContainers containers,
    IdMappingRules idRules,
    CgroupDelegation cgroups,
    ResourceUsage resources,
    NamespaceHelper helper,
    WorkingArea area,
    RuntimeConfig runtime,
    FsShiftChoice fsShift,
    ILogger<InWorkspaceOperations> log)
{
    /// <summary>
    /// Readies the container for its user namespace (docs/compatibility.md#prepareforuserns): device
    /// nodes in its /dev, its root shifted at &lt;service dir&gt;/mark (ID-mapped through a user
    /// namespace with the standard mapping, or shiftfs as <see cref="FsShiftChoice"/> decided at start),
    /// and its processes moved into a <c>workspace</c> cgroup with the controllers delegated.
    /// </summary>
    public async Task<FsShift> PrepareForUserNsAsync(string instanceId, CancellationToken cancellationToken)
    {
        var container = await containers.RequireAsync(instanceId, ErrorCode.Internal, "cannot find workspace container", cancellationToken);
        uint owner = runtime.RootRange.Start;
        try
        {
            ContainerRoot.PrepareDevices(containers.Proc.Root, container.Pid, owner);
        }
        catch (IOException e)
        {
            throw new WsdException(ErrorCode.Internal, $"cannot prepare /dev: {e.Message}", e);
        }
        string mark = MarkMount.PathIn(area.ServiceDir(instanceId));
        Directory.CreateDirectory(mark, (UnixFileMode)0x1ED);
        // A call after a daemon restart finds the earlier mark still mounted: it is replaced, not
        // stacked on, so one Teardown leaves nothing behind.
        if (MarkMount.Unmount(area.ServiceDir(instanceId), detach: true) is { } stale)
            throw new WsdException(ErrorCode.Internal, $"cannot replace the earlier mark: {stale}");
        FsShift shift = fsShift.Method;
        try
        {
            if (shift == FsShift.Shiftfs)
                MountShiftfs(container.Pid, mark);
            else
                MountIdmapped(container.Pid, mark);
        }
        catch (IOException e)
        {
            throw new WsdException(ErrorCode.Internal, $"cannot mount the {(shift == FsShift.Shiftfs ? "shiftfs" : "ID-mapped")} mark: {e.Message}", e);
        }
        if (cgroups.Unified)
            cgroups.CreateWorkspaceCgroup(container);
        log.LogInformation("prepared {instanceId} for its user namespace: {shift} mark at {mark}", instanceId, shift, mark);
        return shift;
    }

    void MountIdmapped(int pid, string mark)
    {
        var user = runtime.UserRanges[0];
        string map = $"0 {runtime.RootRange.Start} 1\n1 {user.Start} {Math.Min(65534u, user.Size)}\n";
        using var userNs = NamespaceHandle.NewUser(containers.Proc.Root, map);
        ContainerRoot.MountIdmapped(containers.Proc.Root, pid, userNs.Fd, mark);
    }

    // shiftfs is an out-of-tree module (Ubuntu kernels); the mark is its "mark" mount of the root.
    void MountShiftfs(int pid, string mark)
    {
        // Checked again on every call: the module may have been unloaded since the daemon started.
        if (!KernelFilesystems.Has(containers.Proc.Root, "shiftfs"))
            throw new WsdException(ErrorCode.FailedPrecondition, "the fs shift method is shiftfs, but this kernel has no shiftfs filesystem; set runtime.fsShift to idmapped");
        MountPoints.Mount(Path.Combine(containers.Proc.Root, pid.ToString(), "root"), mark, "shiftfs", "mark");
    }

    /// <summary>Writes a user namespace's uid_map or gid_map for a process in the container (docs/compatibility.md#writeidmapping).</summary>
    public async Task WriteIdMappingAsync(string instanceId, long pid, bool gid, IEnumerable<(uint Container, uint Host, uint Size)> mapping,
        CancellationToken cancellationToken)
    {
        var entries = mapping.Select(m => new IdRange(m.Container, m.Host, m.Size)).ToList();
        var container = await containers.RequireAsync(instanceId, ErrorCode.FailedPrecondition, "cannot find container", cancellationToken);
        idRules.Check(entries, gid);
        using var process = containers.OpenProcess(container, pid);
        int hostPid = process.Pid;
        try
        {
            IdMaps.Write(process, gid, entries);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WsdException(ErrorCode.FailedPrecondition, $"cannot write mapping for PID {pid}: {e.Message}", e);
        }
        log.LogInformation("wrote {map} of in-container PID {pid} (node PID {hostPid}): {entries}",
            gid ? "gid_map" : "uid_map", pid, hostPid, string.Join(", ", entries.Select(e => $"{e.Container}:{e.Host}:{e.Size}")));
    }

    /// <summary>Moves the workspace's processes into workspace/user and hands that subtree over (docs/compatibility.md#evacuatecgroup); a no-op without cgroup v2.</summary>
    public async Task EvacuateCgroupAsync(string instanceId, CancellationToken cancellationToken)
    {
        if (!cgroups.Unified)
            return;
        var container = await containers.RequireAsync(instanceId, ErrorCode.NotFound, "cannot find workspace container", cancellationToken);
        cgroups.CreateUserCgroup(container);
    }

    public async Task<ResourceUsage.Figures> WorkspaceInfoAsync(string instanceId, CancellationToken cancellationToken)
    {
        var container = await containers.RequireAsync(instanceId, ErrorCode.NotFound, "cannot find workspace container", cancellationToken);
        return await resources.ReadAsync(container, cancellationToken);
    }

    /// <summary>
    /// Mounts a masked proc or sysfs (<paramref name="kind"/>) at <paramref name="target"/> in the mount
    /// namespace of in-container PID <paramref name="pid"/>
    /// (docs/compatibility.md#proc-and-sysfs-mounts); <paramref name="unmount"/> takes such a mount away
    /// again, and only such a mount (which upstream never did,
    /// docs/compatibility.md#unmounts-that-did-not-unmount).
    /// </summary>
    public async Task MountAsync(string instanceId, string kind, bool unmount, string target, long pid, CancellationToken cancellationToken,
        NfsMountRequest.Checked? nfs = null)
    {
        string verb = unmount ? "umount" : "mount";
        var container = await containers.RequireAsync(instanceId, ErrorCode.FailedPrecondition, "cannot find workspace container", cancellationToken);
        try
        {
            PseudoFsMounts.RelativeTarget(target);
        }
        catch (PseudoFsMounts.BadTargetException e)
        {
            throw new WsdException(ErrorCode.InvalidArgument, e.Message, e);
        }
        using var process = containers.OpenProcess(container, pid);
        NamespaceHelper.Result result;
        try
        {
            // The helper holds the process again by its node PID, its PID in its own namespace (the
            // helper's) and its start time, which a later process given the same PID does not share.
            string identity = $"{process.Pid}@{process.NsPids()[^1]}@{process.StartTime()}";
            string[] args = ["internal-ns", unmount ? "unmount" : "mount", kind, containers.Proc.Root, identity, target];
            result = await helper.RunInPidNamespaceOfAsync(process, nfs is null ? args : [.. args, nfs.Source, nfs.Options], cancellationToken);
        }
        catch (IOException e)
        {
            throw new WsdException(ErrorCode.Internal, $"cannot {verb} {kind}: {e.Message}", e);
        }
        if (result.ExitCode == NamespaceHelper.BadTargetExit)
            throw new WsdException(ErrorCode.InvalidArgument, result.Error);
        if (result.ExitCode != 0)
            throw new WsdException(ErrorCode.Internal, $"cannot {verb} {(kind == "nfs4" ? "nfs" : kind)}: {result.Error}");
        log.LogInformation("{verb} {kind} at {target} for in-container PID {pid} of {instanceId}", verb, kind, target, pid, instanceId);
    }

    /// <summary>
    /// Mounts an NFS export at <paramref name="target"/> for in-container PID <paramref name="pid"/>,
    /// connecting from its network namespace (docs/compatibility.md#mountnfs, with source and options checked).
    /// </summary>
    public async Task MountNfsAsync(string instanceId, string source, string options, string target, long pid, CancellationToken cancellationToken)
    {
        var nfs = await NfsMountRequest.CheckAsync(source, options, cancellationToken);
        await MountAsync(instanceId, "nfs4", unmount: false, target, pid, cancellationToken, nfs);
    }

    /// <summary>Removes the workspace's mark mount (docs/compatibility.md#teardown); false, never an error, when it cannot.</summary>
    public bool Teardown(string instanceId)
    {
        string? problem = MarkMount.Unmount(area.ServiceDir(instanceId));
        if (problem is not null)
            log.LogWarning("teardown of {instanceId}: {problem}", instanceId, problem);
        return problem is null;
    }
}
