namespace Wsd.Runtime;

/// <summary>
/// Finds a workspace's container on this node (REF §7.1): the in-workspace service acts on it and
/// on nothing else. Providers: <see cref="ProcessContainerRuntime"/> (a PID file per container).
/// </summary>
public interface IContainerRuntime
{
    /// <summary>The running container of workspace <paramref name="instanceId"/>, or null and why not.</summary>
    WorkspaceContainer? Find(string instanceId, out string whyNot);
}

/// <summary>
/// A running workspace container: its init's PID as the node sees it, the depth of its PID namespace
/// in NSpid (what "a PID inside the container" is counted in), and its cgroup v2 path.
/// </summary>
public sealed record WorkspaceContainer(string InstanceId, int Pid, int PidNamespaceLevel, string CgroupPath);
