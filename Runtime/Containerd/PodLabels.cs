namespace Wsd.Runtime.Containerd;

/// <summary>
/// The labels by which the kubelet's containers in containerd name their pod and their role, and
/// by which Gitpod's pods name their workspace (docs/compatibility.md#finding-the-workspace-container).
/// </summary>
public static class PodLabels
{
    public const string Kind = "io.cri-containerd.kind"; // "sandbox" (the pod) or "container"
    public const string ContainerName = "io.kubernetes.container.name";
    public const string PodUid = "io.kubernetes.pod.uid";
    public const string PodNamespace = "io.kubernetes.pod.namespace";
    public const string InstanceId = "gitpod.io/instanceID"; // mk2
    public const string WorkspaceId = "workspaceID";           // mk1, with the gpwsman marker
    public const string Mk1Marker = "gpwsman";
    public const string WorkspaceContainerName = "workspace";

    /// <summary>The workspace instance a pod sandbox belongs to, or null for any other pod.</summary>
    public static string? InstanceOf(IReadOnlyDictionary<string, string> sandbox) =>
        sandbox.TryGetValue(InstanceId, out var id) ? id
        : sandbox.ContainsKey(Mk1Marker) && sandbox.TryGetValue(WorkspaceId, out var mk1) ? mk1
        : null;

    /// <summary>A pod sandbox or workspace container: the only containers the index keeps.</summary>
    public static bool Relevant(IReadOnlyDictionary<string, string> labels) =>
        labels.GetValueOrDefault(Kind) switch
        {
            "sandbox" => InstanceOf(labels) is not null,
            "container" => labels.GetValueOrDefault(ContainerName) == WorkspaceContainerName,
            _ => false,
        };

    /// <summary>containerd list filters for <see cref="Relevant"/> containers (any may match).</summary>
    public static readonly string[] ListFilters =
    [
        $"labels.\"{Kind}\"==sandbox,labels.\"{InstanceId}\"",
        $"labels.\"{Kind}\"==sandbox,labels.\"{Mk1Marker}\"",
        $"labels.\"{Kind}\"==container,labels.\"{ContainerName}\"=={WorkspaceContainerName}",
    ];
}
