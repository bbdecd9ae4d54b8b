using Wsd.Errors;
using Wsd.Linux;

namespace Wsd.Workspaces.InWorkspace;

/// <summary>
/// What the in-workspace service does for the workspace whose socket a call came in on (REF §7,
/// SPEC §7). The caller is untrusted workspace code: it names only PIDs inside its own container,
/// and every ID, path and option it sends is checked before anything privileged happens.
/// </summary>
public sealed class InWorkspaceOperations(
    WorkspaceContainers containers,
    IdMappingRules idRules,
    CgroupDelegation cgroups,
    ResourceUsage resources,
    WorkingArea area,
    ILogger<InWorkspaceOperations> log)
{
    /// <summary>Writes a user namespace's uid_map or gid_map for a process in the container (REF §7.5).</summary>
    public void WriteIdMapping(string instanceId, long pid, bool gid, IReadOnlyList<IdMaps.Entry> entries)
    {
        var container = containers.Require(instanceId, ErrorCode.FailedPrecondition, "cannot find container");
        idRules.Check(entries, gid);
        int hostPid = containers.ResolvePid(container, pid);
        try
        {
            IdMaps.Write(containers.Proc, hostPid, gid, entries);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WsdException(ErrorCode.FailedPrecondition, $"cannot write mapping for PID {pid}: {e.Message}", e);
        }
        log.LogInformation("wrote {map} of in-container PID {pid} (node PID {hostPid}): {entries}",
            gid ? "gid_map" : "uid_map", pid, hostPid, string.Join(", ", entries.Select(e => $"{e.ContainerId}:{e.HostId}:{e.Size}")));
    }

    /// <summary>Moves the workspace's processes into workspace/user and hands that subtree over (REF §7.6); a no-op without cgroup v2.</summary>
    public void EvacuateCgroup(string instanceId)
    {
        if (!cgroups.Unified)
            return;
        var container = containers.Require(instanceId, ErrorCode.NotFound, "cannot find workspace container");
        cgroups.CreateUserCgroup(container);
    }

    public Task<ResourceUsage.Figures> WorkspaceInfoAsync(string instanceId, CancellationToken cancellationToken)
    {
        var container = containers.Require(instanceId, ErrorCode.NotFound, "cannot find workspace container");
        return resources.ReadAsync(container, cancellationToken);
    }

    /// <summary>Removes the workspace's mark mount (REF §7.11); false, never an error, when it cannot.</summary>
    public bool Teardown(string instanceId)
    {
        string? problem = MarkMount.Unmount(area.ServiceDir(instanceId));
        if (problem is not null)
            log.LogWarning("teardown of {instanceId}: {problem}", instanceId, problem);
        return problem is null;
    }
}
