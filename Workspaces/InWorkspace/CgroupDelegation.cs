using Wsd.Errors;
using Wsd.Linux;
using Wsd.Runtime;

namespace Wsd.Workspaces.InWorkspace;

/// <summary>
/// Hands the workspace a cgroup subtree of its own (docs/compatibility.md#prepareforuserns,
/// docs/compatibility.md#evacuatecgroup): the container's processes move to <c>workspace</c>, and later
/// to <c>workspace/user</c>; the <c>workspace</c> subtree then belongs to <paramref name="owner"/>, the
/// host ID of the workspace's root (the start of the root ID range,
/// docs/compatibility.md#evacuatecgroup), with every controller delegated on the way down. Resulting
/// tree: container cgroup → workspace → user.
/// </summary>
public sealed class CgroupDelegation(CgroupV2 cgroups, uint owner, ILogger<CgroupDelegation> log)
{
    public const string WorkspaceCgroup = "workspace", UserCgroup = "user";

    public bool Unified => cgroups.IsUnified;

    /// <summary>PrepareForUserNS: the container's processes into <c>workspace</c>.</summary>
    public void CreateWorkspaceCgroup(WorkspaceContainer container)
    {
        string directory = ContainerCgroup(container);
        Evacuate(directory, WorkspaceCgroup, container, "cannot create workspace cgroup");
    }

    /// <summary>EvacuateCGroup: <c>workspace</c>'s processes into <c>workspace/user</c>, and the subtree to the workspace's root.</summary>
    public void CreateUserCgroup(WorkspaceContainer container)
    {
        string workspace = Path.Combine(ContainerCgroup(container), WorkspaceCgroup);
        if (!Directory.Exists(workspace))
            throw new WsdException(ErrorCode.FailedPrecondition, $"cannot find workspace cgroup {workspace}: PrepareForUserNS makes it");
        Evacuate(workspace, UserCgroup, container, "cannot produce user cgroup");
        try
        {
            CgroupV2.ChownTree(workspace, owner, owner);
        }
        catch (IOException e)
        {
            throw new WsdException(ErrorCode.FailedPrecondition, $"cannot chown workspace cgroup: {e.Message}", e);
        }
    }

    string ContainerCgroup(WorkspaceContainer container) => ContainerCgroupDirectory(cgroups, container);

    /// <summary>The container's cgroup directory; NOT_FOUND when it is not (or no longer) there.</summary>
    internal static string ContainerCgroupDirectory(CgroupV2 cgroups, WorkspaceContainer container)
    {
        try
        {
            string directory = cgroups.DirectoryOf(container.CgroupPath);
            return Directory.Exists(directory) ? directory
                : throw new WsdException(ErrorCode.NotFound, $"cannot find workspace container cgroup {directory}");
        }
        catch (IOException e)
        {
            throw new WsdException(ErrorCode.NotFound, $"cannot find workspace container cgroup: {e.Message}", e);
        }
    }

    void Evacuate(string directory, string child, WorkspaceContainer container, string failure)
    {
        List<string> problems;
        try
        {
            problems = cgroups.Evacuate(directory, child);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WsdException(ErrorCode.FailedPrecondition, $"{failure}: {e.Message}", e);
        }
        foreach (var problem in problems)
            log.LogWarning("evacuating {cgroup} of {instanceId} into {child}: {problem}", directory, container.InstanceId, child, problem);
    }
}
