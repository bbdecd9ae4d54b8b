using System.Diagnostics;
using Wsd.Observability.Metrics;

namespace Wsd.Observability;

/// <summary>Process-wide metrics: build, resources, and the working area's free space (docs/compatibility.md#metric-names).</summary>
public static class DaemonMetrics
{
    /// <param name="workingAreaFreeBytes">The working area's free bytes, NaN when they cannot be read (as upstream).</param>
    public static void Register(MetricRegistry registry, Func<double> workingAreaFreeBytes, long minFreeBytes)
    {
        string version = Escape(BuildInfo.Version);
        registry.Register(new ScrapedValue("wsd_build_info", "Build of the running wsd binary; always 1.",
            () => 1, constantLabels: $"{{version=\"{version}\",commit=\"{Escape(BuildInfo.Commit)}\"}}"));
        registry.Register(new ScrapedValue("gitpod_server_version", "Upstream-compatible version marker; always 1.",
            () => 1, constantLabels: $"{{version=\"{version}\"}}"));

        string hostname = Escape(Environment.GetEnvironmentVariable("NODENAME") ?? Environment.MachineName);
        registry.Register(new ScrapedValue("gitpod_ws_daemon_working_area_free_bytes",
            "Bytes available to unprivileged users in the working area's file system.",
            workingAreaFreeBytes, constantLabels: $"{{hostname=\"{hostname}\"}}"));
        registry.Register(new ScrapedValue("wsd_working_area_free_bytes",
            "Bytes available to unprivileged users in the working area's file system; InitWorkspace is refused below wsd_working_area_min_free_bytes.",
            workingAreaFreeBytes));
        registry.Register(new ScrapedValue("wsd_working_area_min_free_bytes",
            "The configured minimum of free bytes in the working area (content.minFreeBytes).", () => minFreeBytes));

        double startTime = (Process.GetCurrentProcess().StartTime.ToUniversalTime() - DateTime.UnixEpoch).TotalSeconds;
        registry.Register(new ScrapedValue("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", () => startTime));
        registry.Register(new ScrapedValue("process_resident_memory_bytes", "Resident memory size in bytes.", ResidentBytes));
        registry.Register(new ScrapedValue("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
            () => Environment.CpuUsage.TotalTime.TotalSeconds, type: "counter"));
        registry.Register(new ScrapedValue("dotnet_gc_heap_size_bytes", "Bytes of managed heap in use after the last collection.",
            () => GC.GetGCMemoryInfo().HeapSizeBytes));
    }

    // /proc/self/statm: size resident shared ... in pages.
    static double ResidentBytes()
    {
        try
        {
            var fields = File.ReadAllText("/proc/self/statm").Split(' ');
            return long.Parse(fields[1]) * (double)Environment.SystemPageSize;
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException)
        {
            return double.NaN;
        }
    }

    static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
