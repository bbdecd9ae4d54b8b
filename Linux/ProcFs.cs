namespace Wsd.Linux;

/// <summary>
/// Processes as the node's /proc shows them: their PIDs in each nested PID namespace (the NSpid
/// line of status), their children, their cgroup v2 path. Everything is read fresh; a process that
/// is gone reads as null or empty, never as an error.
/// </summary>
public sealed class ProcFs(string root = "/proc")
{
    /// <summary>A bound on the processes one search visits, so a fork bomb cannot stall a call.</summary>
    const int SearchLimit = 100_000;

    public string Root { get; } = root;

    public string PathOf(int pid, string entry) => Path.Combine(Root, pid.ToString(), entry);

    /// <summary>The PIDs of <paramref name="pid"/> from the outermost namespace (the /proc mount's) inwards; null when it is gone.</summary>
    public int[]? NsPids(int pid)
    {
        string? line = ReadLines(PathOf(pid, "status")).FirstOrDefault(l => l.StartsWith("NSpid:", StringComparison.Ordinal));
        if (line is null)
            return null;
        var fields = line["NSpid:".Length..].Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
        var pids = new int[fields.Length];
        for (int i = 0; i < fields.Length; i++)
        {
            if (!int.TryParse(fields[i], out pids[i]))
                return null;
        }
        return pids.Length > 0 ? pids : null;
    }

    /// <summary>The children of every thread of <paramref name="pid"/>.</summary>
    public IEnumerable<int> Children(int pid)
    {
        string tasks = PathOf(pid, "task");
        IEnumerable<string> threads;
        try
        {
            threads = Directory.GetDirectories(tasks);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            yield break;
        }
        foreach (var thread in threads)
        {
            foreach (var line in ReadLines(Path.Combine(thread, "children")))
            {
                foreach (var field in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (int.TryParse(field, out int child))
                        yield return child;
                }
            }
        }
    }

    /// <summary>
    /// The node PID of the process in <paramref name="ancestor"/>'s tree (itself included) whose PID in
    /// the namespace at depth <paramref name="level"/> is <paramref name="pidAtLevel"/>; null when none is.
    /// Only that one level is compared, so a node PID never passes for an in-container one.
    /// </summary>
    public int? FindInTree(int ancestor, int level, int pidAtLevel)
    {
        var queue = new Queue<int>([ancestor]);
        var seen = new HashSet<int>();
        while (queue.Count > 0 && seen.Count < SearchLimit)
        {
            int pid = queue.Dequeue();
            if (!seen.Add(pid))
                continue;
            var nsPids = NsPids(pid);
            if (nsPids is null)
                continue;
            if (nsPids.Length > level && nsPids[level] == pidAtLevel)
                return pid;
            foreach (int child in Children(pid))
                queue.Enqueue(child);
        }
        return null;
    }

    /// <summary>The daemon's own PID as this /proc counts it; null when it is no member of that PID namespace.</summary>
    public int? SelfPid()
    {
        try
        {
            return int.TryParse(new FileInfo(Path.Combine(Root, "self")).LinkTarget, out int pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The process's cgroup v2 path ("0::" line), e.g. "/kubepods/pod1/abc"; null when it has none.</summary>
    public string? CgroupPath(int pid) =>
        ReadLines(PathOf(pid, "cgroup")).FirstOrDefault(l => l.StartsWith("0::", StringComparison.Ordinal))?[3..];

    static string[] ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
