using Wsd.Errors;
using Wsd.Linux;
using Wsd.Runtime;

namespace Wsd.Workspaces.InWorkspace;

/// <summary>
/// The container behind a workspace socket and the processes in it. A PID a caller sends is a PID
/// inside the container; it is looked up only among the container init's descendants, at the
/// container's own PID namespace level, so no caller can name a process outside its workspace
/// (docs/compatibility.md#pids-from-the-caller: upstream's search, with the match tied to that one level).
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

    /// <summary>
    /// The process that is in-container PID <paramref name="pid"/>, held so that it cannot be swapped
    /// for another; INVALID_ARGUMENT when the container has no such process. The search reads /proc
    /// by PID, so the process found is held first and checked again through its handle: its PID at
    /// the container's level is <paramref name="pid"/>, and the PID namespace at that level is the
    /// container init's. A process that ended and gave its PID away in between fails that check.
    /// </summary>
    public ProcessHandle OpenProcess(WorkspaceContainer container, long pid)
    {
        if (pid is <= 0 or > int.MaxValue)
            throw new WsdException(ErrorCode.InvalidArgument, $"cannot find PID {pid}: not a process ID");
        int? hostPid = proc.FindInTree(container.Pid, container.PidNamespaceLevel, (int)pid);
        var handle = hostPid is null ? null : ProcessHandle.Open(proc, hostPid.Value);
        if (handle is null)
            throw new WsdException(ErrorCode.InvalidArgument, $"cannot find PID {pid} in the workspace container");
        try
        {
            using var init = ProcessHandle.Open(proc, container.Pid)
                ?? throw new WsdException(ErrorCode.FailedPrecondition, "the workspace container's init has ended");
            var nsPids = handle.NsPids();
            if (nsPids.Length <= container.PidNamespaceLevel || nsPids[container.PidNamespaceLevel] != pid
                || !handle.IsInPidNamespaceOf(init, container.PidNamespaceLevel))
                throw new WsdException(ErrorCode.InvalidArgument, $"cannot find PID {pid} in the workspace container");
            return handle;
        }
        catch (IOException e)
        {
            handle.Dispose();
            throw new WsdException(ErrorCode.InvalidArgument, $"cannot find PID {pid} in the workspace container: {e.Message}", e);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }
}
