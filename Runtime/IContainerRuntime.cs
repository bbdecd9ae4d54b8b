namespace Wsd.Runtime;

/// <summary>
/// Finds a workspace's container on this node (docs/compatibility.md#finding-the-workspace-container):
/// the in-workspace service acts on it and on nothing else. Providers:
/// <see cref="ProcessContainerRuntime"/> (a PID file or cgroup per container) and
/// <see cref="Containerd.ContainerdRuntime"/> (containerd's labels, tasks and events).
/// </summary>
public interface IContainerRuntime
{
    /// <summary>
    /// The running container of workspace <paramref name="instanceId"/>, or null and why not. A
    /// provider may wait a little for a container that is starting; it never waits past
    /// <paramref name="cancellationToken"/>.
    /// </summary>
    ValueTask<(WorkspaceContainer? Container, string WhyNot)> FindAsync(string instanceId, CancellationToken cancellationToken);
}

/// <summary>
/// A running workspace container: its init's PID as the node sees it, the depth of its PID namespace
/// in NSpid (what "a PID inside the container" is counted in), and its cgroup v2 path. Its root is
/// reached through /proc/&lt;pid&gt;/root, the tree the init sees.
/// </summary>
public sealed record WorkspaceContainer(string InstanceId, int Pid, int PidNamespaceLevel, string CgroupPath);
