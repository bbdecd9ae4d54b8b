using System.Text.Json.Serialization;

namespace Wsd.Config;

/// <summary><c>runtime.kind</c>: how the daemon finds a workspace's container.</summary>
[JsonConverter(typeof(RuntimeKindJsonConverter))]
public enum RuntimeKind
{
    /// <summary>Each container's init PID is in a file (or cgroup) the runtime writes.</summary>
    Process,
    /// <summary>containerd's API on its socket names the container.</summary>
    Containerd,
}

public sealed class RuntimeKindJsonConverter() : ChoiceJsonConverter<RuntimeKind>(("process", RuntimeKind.Process), ("containerd", RuntimeKind.Containerd));
