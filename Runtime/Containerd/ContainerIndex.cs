namespace Wsd.Runtime.Containerd;

/// <summary>
/// What containerd has said about workspace pods: their sandboxes and workspace containers, and
/// each container's task. Finds a workspace's container the way
/// docs/compatibility.md#finding-the-workspace-container describes: the sandbox labelled with the
/// instance ID, in the configured Kubernetes namespace (upstream did not check,
/// docs/compatibility.md#pods-of-other-namespaces), then the container named <c>workspace</c> of that
/// same pod (by pod UID). Not thread-safe: its owner serialises access.
/// </summary>
public sealed class ContainerIndex(string podNamespace)
{
    /// <summary>A container: its labels, its cgroup v2 path, and its spec's root path (relative to its task bundle, or absolute).</summary>
    public sealed record Container(string Id, IReadOnlyDictionary<string, string> Labels, string CgroupPath, string Root = "rootfs");

    /// <summary>A container's init task: running (with its node PID), exited (with its status), or neither (created).</summary>
    public sealed record TaskState(uint Pid, bool Running, bool Exited, uint ExitStatus);

    public enum Outcome
    {
        /// <summary>The workspace container's task is running.</summary>
        Running,
        /// <summary>Nothing yet, or created but not started: it may still come.</summary>
        NotYet,
        /// <summary>Its task exited: it will not come back as this container.</summary>
        Exited,
    }

    public sealed record Lookup(Outcome Outcome, Container? Container, TaskState? Task, string WhyNot);

    readonly Dictionary<string, Container> _containers = [];
    readonly Dictionary<string, TaskState> _tasks = [];

    public void Replace(IEnumerable<Container> containers, IEnumerable<(string ContainerId, TaskState Task)> tasks)
    {
        _containers.Clear();
        _tasks.Clear();
        foreach (var container in containers)
            Put(container);
        foreach (var (id, task) in tasks)
        {
            if (_containers.ContainsKey(id))
                _tasks[id] = task;
        }
    }

    /// <summary>Records what containerd now says about container <paramref name="id"/>: null for gone (or not a workspace pod's).</summary>
    public void Update(string id, Container? container, TaskState? task)
    {
        if (container is null || !PodLabels.Relevant(container.Labels))
        {
            _containers.Remove(id);
            _tasks.Remove(id);
            return;
        }
        _containers[id] = container;
        if (task is null)
            _tasks.Remove(id);
        else
            _tasks[id] = task;
    }

    void Put(Container container)
    {
        if (PodLabels.Relevant(container.Labels))
            _containers[container.Id] = container;
    }

    public Lookup Find(string instanceId)
    {
        string where = podNamespace.Length == 0 ? "" : $" in Kubernetes namespace {podNamespace}";
        var pods = _containers.Values
            .Where(c => c.Labels.GetValueOrDefault(PodLabels.Kind) == "sandbox" && PodLabels.InstanceOf(c.Labels) == instanceId && InNamespace(c))
            .Select(c => c.Labels.GetValueOrDefault(PodLabels.PodUid))
            .Where(uid => !string.IsNullOrEmpty(uid))
            .ToHashSet();
        if (pods.Count == 0)
            return new Lookup(Outcome.NotYet, null, null, $"containerd has no pod sandbox labelled {PodLabels.InstanceId}={instanceId}{where}");
        var candidates = _containers.Values
            .Where(c => c.Labels.GetValueOrDefault(PodLabels.Kind) == "container"
                && c.Labels.GetValueOrDefault(PodLabels.ContainerName) == PodLabels.WorkspaceContainerName
                && pods.Contains(c.Labels.GetValueOrDefault(PodLabels.PodUid) ?? "") && InNamespace(c))
            .Select(c => (Container: c, Task: _tasks.GetValueOrDefault(c.Id)))
            .ToList();
        if (candidates.FirstOrDefault(c => c.Task is { Running: true }) is { Container: not null } running)
            return new Lookup(Outcome.Running, running.Container, running.Task, "");
        if (candidates.Count == 0)
            return new Lookup(Outcome.NotYet, null, null, $"the pod of workspace {instanceId} has no container named {PodLabels.WorkspaceContainerName}");
        if (candidates.FirstOrDefault(c => c.Task is { Exited: true }) is { Container: not null } exited)
            return new Lookup(Outcome.Exited, exited.Container, exited.Task,
                $"the workspace container {exited.Container.Id} of workspace {instanceId} has exited (status {exited.Task!.ExitStatus})");
        return new Lookup(Outcome.NotYet, candidates[0].Container, null, $"the workspace container {candidates[0].Container.Id} of workspace {instanceId} has not started");
    }

    bool InNamespace(Container c) => podNamespace.Length == 0 || c.Labels.GetValueOrDefault(PodLabels.PodNamespace) == podNamespace;
}
