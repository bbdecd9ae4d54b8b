using Wsd.Linux;

namespace Wsd.Runtime;

/// <summary>
/// The <c>process</c> provider, for single machines and tests: the runtime that starts a workspace
/// container writes its init's node PID, in decimal, to <c>&lt;pidDirectory&gt;/&lt;instanceId&gt;.pid</c>
/// (what <c>runc --pid-file</c> and <c>ctr run --pid-file</c> write) and removes it when the container
/// is gone. The PID must be PID 1 of its own PID namespace, so a stale file whose PID now belongs to
/// some node process is refused rather than acted on. Cgroup and root come from /proc.
/// </summary>
public sealed class ProcessContainerRuntime(string pidDirectory, ProcFs proc) : IContainerRuntime
{
    public WorkspaceContainer? Find(string instanceId, out string whyNot)
    {
        string file = Path.Combine(pidDirectory, instanceId + ".pid");
        string text;
        try
        {
            text = File.ReadAllText(file).Trim();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            whyNot = $"no container is running for workspace {instanceId} ({file} does not exist)";
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            whyNot = $"cannot read {file}: {e.Message}";
            return null;
        }
        if (!int.TryParse(text, out int pid) || pid <= 1)
        {
            whyNot = $"{file} does not hold a process ID";
            return null;
        }
        var nsPids = proc.NsPids(pid);
        if (nsPids is null)
        {
            whyNot = $"the container of workspace {instanceId} (process {pid}) has exited";
            return null;
        }
        if (nsPids.Length < 2 || nsPids[^1] != 1)
        {
            whyNot = $"process {pid} named by {file} is not a container's init (PID 1 of its own PID namespace)";
            return null;
        }
        whyNot = "";
        return new WorkspaceContainer(instanceId, pid, nsPids.Length - 1, ContainerCgroup(proc.CgroupPath(pid) ?? ""));
    }

    // The init's cgroup is the container's until PrepareForUserNS and EvacuateCGroup move it down
    // into wsd's own workspace/user subtree; the container's cgroup is the one above that.
    static string ContainerCgroup(string path)
    {
        foreach (var suffix in (string[])["/workspace/user", "/workspace"])
        {
            if (path.EndsWith(suffix, StringComparison.Ordinal))
                return path[..^suffix.Length];
        }
        return path;
    }
}
