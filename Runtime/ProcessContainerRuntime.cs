using Wsd.Linux;

namespace Wsd.Runtime;

/// <summary>
/// The <c>process</c> provider, for single machines and tests: the runtime that starts a workspace
/// container writes its init's node PID, in decimal, to <c>&lt;pidDirectory&gt;/&lt;instanceId&gt;.pid</c>
/// (what <c>runc --pid-file</c> and <c>ctr run --pid-file</c> write) and removes it when the container
/// is gone. The PID must be PID 1 of its own PID namespace, so a stale file whose PID now belongs to
/// some node process is refused rather than acted on. Without a pid file, a configured cgroup
/// pattern names the container's cgroup instead, and its init is found in that subtree. Cgroup and
/// root come from /proc.
/// </summary>
public sealed class ProcessContainerRuntime(string pidDirectory, string cgroupPattern, CgroupV2 cgroups, ProcFs proc) : IContainerRuntime
{
    public ValueTask<(WorkspaceContainer? Container, string WhyNot)> FindAsync(string instanceId, CancellationToken cancellationToken) =>
        ValueTask.FromResult((Find(instanceId, out string whyNot), whyNot));

    public WorkspaceContainer? Find(string instanceId, out string whyNot)
    {
        string file = Path.Combine(pidDirectory, instanceId + ".pid");
        string text;
        try
        {
            text = File.ReadAllText(file).Trim();
        }
        catch (Exception e) when ((e is FileNotFoundException or DirectoryNotFoundException) && cgroupPattern.Length > 0)
        {
            return FindInCgroup(instanceId, out whyNot);
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
        if (!IsContainerInit(nsPids))
        {
            whyNot = $"process {pid} named by {file} is not a container's init (PID 1 of its own PID namespace)";
            return null;
        }
        whyNot = "";
        return new WorkspaceContainer(instanceId, pid, nsPids.Length - 1, ContainerCgroup(proc.CgroupPath(pid) ?? ""));
    }

    // The init is the process in the cgroup subtree that is PID 1 of a PID namespace, the outermost
    // such one: a workspace's own nested namespaces have a PID 1 of their own further in.
    WorkspaceContainer? FindInCgroup(string instanceId, out string whyNot)
    {
        string path = cgroupPattern.Replace("{instanceId}", instanceId, StringComparison.Ordinal);
        string directory;
        try
        {
            directory = cgroups.DirectoryOf(path);
        }
        catch (IOException e)
        {
            whyNot = e.Message;
            return null;
        }
        if (!Directory.Exists(directory))
        {
            whyNot = $"no container is running for workspace {instanceId} (no cgroup {directory})";
            return null;
        }
        var inits = Directory.EnumerateDirectories(directory, "*", SearchOption.AllDirectories).Prepend(directory)
            .SelectMany(d => File.Exists(Path.Combine(d, "cgroup.procs")) ? File.ReadAllLines(Path.Combine(d, "cgroup.procs")) : [])
            .Select(line => int.TryParse(line, out int pid) ? pid : 0)
            .Select(pid => (Pid: pid, NsPids: pid > 0 ? proc.NsPids(pid) : null))
            .Where(p => IsContainerInit(p.NsPids))
            .OrderBy(p => p.NsPids!.Length)
            .ToList();
        if (inits.Count == 0)
        {
            whyNot = $"the cgroup {directory} of workspace {instanceId} holds no container init (PID 1 of its own PID namespace)";
            return null;
        }
        whyNot = "";
        return new WorkspaceContainer(instanceId, inits[0].Pid, inits[0].NsPids!.Length - 1, path);
    }

    // PID 1 of a PID namespace below the node's.
    internal static bool IsContainerInit(int[]? nsPids) => nsPids is { Length: >= 2 } && nsPids[^1] == 1;

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
