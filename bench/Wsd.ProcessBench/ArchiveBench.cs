using System.Diagnostics;
using System.Globalization;

namespace Wsd.ProcessBench;

/// <summary>
/// Create and extract wall time, throughput and peak RSS for wsd, GNU tar, System.Formats.Tar and
/// `cat` of the same bytes, on one generated tree, interleaved run by run so all see the same
/// machine. Everything lives on a tmpfs the benchmark mounts, so the disk's noise stays out.
/// </summary>
static class ArchiveBench
{
    sealed record Tool(string Name, Func<string, string, string> Create, Func<string, string, string> Extract);

    public static async Task RunAsync(string root, int runs, long sizeMiB, int smallFiles, Report report)
    {
        string wsd = Path.Combine(root, "out", "wsd");
        string self = Environment.ProcessPath!;
        string selfDll = typeof(ArchiveBench).Assembly.Location;
        string peer = self.EndsWith("dotnet", StringComparison.Ordinal) ? $"{self} {selfDll}" : self;
        string work = Directory.CreateTempSubdirectory("wsd-archive-bench-").FullName;
        bool tmpfs = Sh($"mount -t tmpfs -o size={sizeMiB * 6 + 1024}m wsd-bench {work}", check: false).ExitCode == 0;
        try
        {
            string tree = Path.Combine(work, "tree");
            var clock = Stopwatch.StartNew();
            var (files, bytes) = TreeGenerator.Create(tree, sizeMiB << 20, smallFiles);
            Console.WriteLine($"tree: {files:N0} files, {bytes / 1e6:N0} MB, made in {clock.Elapsed.TotalSeconds:F1} s on {(tmpfs ? "tmpfs" : "the working disk (tmpfs mount failed)")}");

            var tools = new[]
            {
                new Tool("wsd (AOT, with SHA-256)", (t, a) => $"{wsd} archive create {t} > {a} 2>/dev/null", (a, d) => $"{wsd} archive extract {d} < {a} 2>/dev/null"),
                new Tool("GNU tar", (t, a) => $"tar -cf {a} -C {t} .", (a, d) => $"mkdir -p {d} && tar -xf {a} -C {d}"),
                new Tool("System.Formats.Tar", (t, a) => $"{peer} sft-create {t} {a}", (a, d) => $"{peer} sft-extract {a} {d}"),
                new Tool("cat (same bytes)", (t, a) => $"cat {Path.Combine(work, "reference.tar")} > {a}", (a, d) => $"cat {a} > {d}.copy"),
                new Tool("wsd --zstd=1", (t, a) => $"{wsd} archive create {t} --zstd=1 > {a} 2>/dev/null", (a, d) => $"{wsd} archive extract {d} < {a} 2>/dev/null"),
            };
            // cat copies an archive of the tree: the bytes both tar programs must move at least.
            Sh($"tar -cf {Path.Combine(work, "reference.tar")} -C {tree} .");

            var results = tools.ToDictionary(t => t.Name, _ => (Create: new List<(double S, long Kb)>(), Extract: new List<(double S, long Kb)>()));
            // Run 0 is a discarded warm-up: on this VM the first touch of fresh memory (tmpfs
            // pages) is slow, and it should not count against whichever tool happens to go first.
            for (int run = -1; run < runs; run++)
            {
                // The order rotates from run to run, so no tool always follows the same neighbour.
                foreach (var tool in tools.Skip(Math.Max(run, 0) % tools.Length).Concat(tools.Take(Math.Max(run, 0) % tools.Length)))
                {
                    string archive = Path.Combine(work, "bench.tar");
                    string destination = Path.Combine(work, "extracted");
                    Prefault(work, bytes);
                    var create = Timed(tool.Create(tree, archive));
                    Prefault(work, bytes);
                    var extract = Timed(tool.Extract(archive, destination));
                    if (run >= 0)
                    {
                        results[tool.Name].Create.Add(create);
                        results[tool.Name].Extract.Add(extract);
                    }
                    Sh($"rm -rf {archive} {destination} {destination}.copy");
                }
                Console.Error.WriteLine(run < 0 ? "warm-up done" : $"run {run + 1}/{runs} done");
            }

            Table("create", results.ToDictionary(r => r.Key, r => r.Value.Create), bytes, report, files);
            Table("extract", results.ToDictionary(r => r.Key, r => r.Value.Extract), bytes, report, files);
            Console.WriteLine();
            Console.WriteLine($"Medians of {runs} interleaved runs; throughput is file data ({bytes / 1e6:N0} MB) per wall second.");
            Console.WriteLine("wsd also hashes the whole stream with SHA-256; GNU tar and System.Formats.Tar do not.");
            Console.WriteLine("System.Formats.Tar runs on the JIT (TarFile.CreateFromDirectory / ExtractToDirectory).");
        }
        finally
        {
            if (tmpfs)
                Sh($"umount {work}", check: false);
            Directory.Delete(work, recursive: true);
        }
        await Task.CompletedTask;
    }

    static void Table(string operation, Dictionary<string, List<(double S, long Kb)>> results, long bytes, Report report, long files)
    {
        double gnu = Median(results["GNU tar"].Select(r => r.S));
        double sft = Median(results["System.Formats.Tar"].Select(r => r.S));
        Console.WriteLine();
        Console.WriteLine($"## {operation}");
        Console.WriteLine();
        Console.WriteLine("| tool | wall s (min-max) | MB/s | peak RSS MiB | time vs GNU tar | time vs System.Formats.Tar |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var (name, runs) in results)
        {
            double s = Median(runs.Select(r => r.S));
            double rss = Median(runs.Select(r => (double)r.Kb)) / 1024;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {s:F2} ({runs.Min(r => r.S):F2}-{runs.Max(r => r.S):F2}) | {bytes / 1e6 / s:F0} | {rss:F1} | {s / gnu:F2} | {s / sft:F2} |"));
        }
        var wsd = results["wsd (AOT, with SHA-256)"];
        double wsdS = Median(wsd.Select(r => r.S));
        foreach (var peer in (string[])["GNU tar", "System.Formats.Tar", "cat (same bytes)"])
        {
            double peerS = Median(results[peer].Select(r => r.S));
            report.Add($"archive {operation}", $"{bytes / 1e6:N0} MB, {files:N0} files, time",
                string.Create(CultureInfo.InvariantCulture, $"{wsdS:F2} s"), peer, string.Create(CultureInfo.InvariantCulture, $"{peerS:F2} s"), wsdS / peerS);
        }
        double wsdRss = Median(wsd.Select(r => (double)r.Kb)) / 1024, gnuRss = Median(results["GNU tar"].Select(r => (double)r.Kb)) / 1024;
        report.Add($"archive {operation}", "peak RSS", string.Create(CultureInfo.InvariantCulture, $"{wsdRss:F1} MiB"), "GNU tar",
            string.Create(CultureInfo.InvariantCulture, $"{gnuRss:F1} MiB"), wsdRss / gnuRss);
    }

    /// <summary>
    /// Writes and deletes a file somewhat larger than what the next command allocates. On this
    /// VM, memory the guest has handed back to the host (free page reporting) costs seconds per
    /// GiB to touch again; freshly freed pages are still hot, so every tool starts from the same
    /// state instead of whichever ran after a large free being favoured.
    /// </summary>
    internal static void Prefault(string work, long bytes)
    {
        string scratch = Path.Combine(work, "prefault");
        Sh($"dd if=/dev/zero of={scratch} bs=1M count={bytes * 25 / 10 >> 20} status=none && rm {scratch}");
    }

    /// <summary>Runs a shell command under /usr/bin/time: (wall seconds, peak RSS in KiB).</summary>
    static (double Seconds, long MaxRssKb) Timed(string command)
    {
        string report = Path.GetTempFileName();
        try
        {
            Sh($"/usr/bin/time -f '%e %M' -o {report} bash -c '{command}'");
            var fields = File.ReadAllText(report).Trim().Split('\n')[^1].Split(' ');
            return (double.Parse(fields[0], CultureInfo.InvariantCulture), long.Parse(fields[1], CultureInfo.InvariantCulture));
        }
        finally
        {
            File.Delete(report);
        }
    }

    static (int ExitCode, string Stderr) Sh(string command, bool check = true, bool captureStderr = false)
    {
        var start = new ProcessStartInfo("bash", ["-c", command]) { RedirectStandardError = captureStderr, UseShellExecute = false };
        using var process = Process.Start(start)!;
        string stderr = captureStderr ? process.StandardError.ReadToEnd() : "";
        process.WaitForExit();
        if (check && process.ExitCode != 0)
            throw new InvalidOperationException($"'{command}' failed with {process.ExitCode}{(stderr.Length > 0 ? ": " + stderr.Trim() : "")}");
        return (process.ExitCode, stderr);
    }

    static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        int mid = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
