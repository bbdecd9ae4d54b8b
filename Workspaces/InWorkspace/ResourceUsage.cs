using System.Collections.Concurrent;
using System.Diagnostics;
using Wsd.Errors;
using Wsd.Linux;
using Wsd.Runtime;

namespace Wsd.Workspaces.InWorkspace;

/// <summary>
/// WorkspaceInfo's figures from the container's cgroup v2 files (docs/compatibility.md#workspaceinfo):
/// CPU used in millicores over a measuring window, the CPU limit from cpu.max (fractions kept: 1.5 CPUs
/// is 1500, not upstream's 1000), memory used without reclaimable page cache, and the memory limit capped
/// at the node's memory. Upstream sleeps a second on every call; here the window is the time since this
/// workspace's previous call when that is between 0.25 s and 10 s ago, so a client polling every few
/// seconds gets its answer at once.
/// </summary>
public sealed class ResourceUsage(CgroupV2 cgroups, string procRoot)
{
    static readonly TimeSpan ShortestWindow = TimeSpan.FromMilliseconds(250), LongestWindow = TimeSpan.FromSeconds(10), Window = TimeSpan.FromSeconds(1);

    readonly ConcurrentDictionary<string, (long UsageMicros, long Timestamp)> _lastSample = new();

    public sealed record Figures(long CpuUsedMillicores, long CpuLimitMillicores, long MemoryUsedBytes, long MemoryLimitBytes);

    public async Task<Figures> ReadAsync(WorkspaceContainer container, CancellationToken cancellationToken)
    {
        if (!cgroups.IsUnified)
            throw new WsdException(ErrorCode.FailedPrecondition, $"only cgroups v2 is supported; {cgroups.Root} is not a cgroup v2 hierarchy");
        string directory = CgroupDelegation.ContainerCgroupDirectory(cgroups, container);
        try
        {
            long cpuUsed = await CpuUsedAsync(container, directory, cancellationToken);
            return new Figures(cpuUsed, CpuLimit(directory), MemoryUsed(directory), MemoryLimit(directory));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            throw new WsdException(ErrorCode.FailedPrecondition, $"cannot read the resources of {directory}: {e.Message}", e);
        }
    }

    async Task<long> CpuUsedAsync(WorkspaceContainer container, string directory, CancellationToken cancellationToken)
    {
        string key = $"{container.InstanceId}/{container.Pid}";
        var now = (UsageMicros: CpuUsageMicros(directory), Timestamp: Stopwatch.GetTimestamp());
        if (!_lastSample.TryGetValue(key, out var then) || Stopwatch.GetElapsedTime(then.Timestamp, now.Timestamp) is var age && (age < ShortestWindow || age > LongestWindow))
        {
            then = now;
            await Task.Delay(Window, cancellationToken);
            now = (CpuUsageMicros(directory), Stopwatch.GetTimestamp());
        }
        _lastSample[key] = now;
        double seconds = Stopwatch.GetElapsedTime(then.Timestamp, now.Timestamp).TotalSeconds;
        return (long)((now.UsageMicros - then.UsageMicros) / 1e6 / seconds * 1000);
    }

    static long CpuUsageMicros(string directory) =>
        CgroupV2.ReadKey(Path.Combine(directory, "cpu.stat"), "usage_usec") ?? throw new FormatException("cpu.stat has no usage_usec");

    long CpuLimit(string directory)
    {
        string file = Path.Combine(directory, "cpu.max");
        string[] fields = File.Exists(file) ? File.ReadAllText(file).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : ["max", "100000"];
        if (fields.Length < 2)
            throw new FormatException($"{file} does not read \"<quota|max> <period>\"");
        if (fields[0] == "max")
            return PhysicalCores() * 1000L;
        return (long)(double.Parse(fields[0]) / double.Parse(fields[1]) * 1000);
    }

    static long MemoryUsed(string directory)
    {
        string current = Path.Combine(directory, "memory.current");
        if (!File.Exists(current))
            throw new IOException($"{current} does not exist: the memory controller is not enabled for the workspace's cgroup");
        long used = long.Parse(File.ReadAllText(current).Trim());
        long inactive = CgroupV2.ReadKey(Path.Combine(directory, "memory.stat"), "inactive_file") ?? 0;
        return Math.Max(0, used - inactive);
    }

    long MemoryLimit(string directory)
    {
        long total = MemTotal();
        string file = Path.Combine(directory, "memory.max");
        string value = File.Exists(file) ? File.ReadAllText(file).Trim() : "max";
        if (value is "max" or "-1")
            return total;
        return Math.Min(long.Parse(value), total);
    }

    // "MemTotal:       24592884 kB"
    long MemTotal()
    {
        string? line = File.ReadLines(Path.Combine(procRoot, "meminfo")).FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        string[] fields = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
        return fields.Length >= 2 && long.TryParse(fields[1], out long kib) ? kib * 1024 : throw new FormatException("meminfo has no MemTotal");
    }

    // Distinct (physical id, core id) pairs: physical cores, as upstream counts; the processor count without them.
    int PhysicalCores()
    {
        var cores = new HashSet<(string, string)>();
        string physical = "";
        int count = 0;
        foreach (var line in File.ReadLines(Path.Combine(procRoot, "cpuinfo")))
        {
            int colon = line.IndexOf(':');
            if (colon < 0)
                continue;
            string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
            if (key == "processor")
                count++;
            else if (key == "physical id")
                physical = value;
            else if (key == "core id")
                cores.Add((physical, value));
        }
        return cores.Count > 0 ? cores.Count : Math.Max(1, count);
    }
}
