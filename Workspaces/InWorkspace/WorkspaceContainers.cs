using Wsd.Errors;
using Wsd.Linux;
using Wsd.Runtime;

namespace Wsd.Workspaces.InWorkspace;

/// <summary>
/// The container behind a workspace socket and the processes in it. A PID a caller sends is a PID
/// inside the container; it is looked up only among the container init's descendants, at the
/// container's own PID namespace level, so no caller can name a process outside its workspace
/// (REF §7.5 findHostPID, with the match tied to that one level).
/// </summary>
public sealed class WorkspaceContainers(IContainerRuntime runtime, ProcFs proc)
{
    public ProcFs Proc => proc;

    /// <summary>The workspace's running container, or <paramref name="code"/> with the reason.</summary>
    public async Task<WorkspaceContainer> RequireAsync(string instanceId, ErrorCode code, string what, CancellationToken cancellationToken)
    {
        var (container, whyNot) = await runtime.FindAsync(instanceId, cancellationToken);
        return container ?? throw new WsdException(code, $"{what}: {whyNot}");
    }

    /// <summary>The node PID of in-container PID <paramref name="pid"/>; INVALID_ARGUMENT when the container has no such process.</summary>
    public int ResolvePid(WorkspaceContainer container, long pid)
    {
        if (pid is <= 0 or > int.MaxValue)
            throw new WsdException(ErrorCode.InvalidArgument, $"cannot find PID {pid}: not a process ID");
        return proc.FindInTree(container.Pid, container.PidNamespaceLevel, (int)pid)
            ?? throw new WsdException(ErrorCode.InvalidArgument, $"cannot find PID {pid} in the workspace container");
    }
}
