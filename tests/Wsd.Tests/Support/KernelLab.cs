using System.Diagnostics;

namespace Wsd.Tests.Support;

/// <summary>
/// Runs a scenario in the kernel lab (tests/kernel-lab/lab.sh): a Debian kernel booted under QEMU
/// with the AOT wsd inside. The scenario prints "PASS name" / "FAIL name: why" lines; a run that
/// cannot happen on this machine comes back with the reason to skip.
/// </summary>
public sealed class KernelLab
{
    const int CannotRunHere = 77;

    KernelLab(string output, string log, int exitCode, TimeSpan elapsed)
    {
        Output = output;
        Log = log;
        ExitCode = exitCode;
        Elapsed = elapsed;
    }

    public string Output { get; }
    /// <summary>What lab.sh said about the run (boot, timing, console on failure).</summary>
    public string Log { get; }
    public int ExitCode { get; }
    public TimeSpan Elapsed { get; }
    public string? SkipReason => ExitCode == CannotRunHere ? $"the kernel lab cannot run here: {Log.Trim()}" : null;

    public static string Script => Path.Combine(RepositoryPaths.Root, "tests", "kernel-lab", "lab.sh");
    public static string Scenario(string name) => Path.Combine(RepositoryPaths.Root, "tests", "kernel-lab", "scenarios", name);

    public static async Task<KernelLab> RunAsync(string scenario, IEnumerable<string>? disks = null, IEnumerable<string>? modules = null,
        string append = "", TimeSpan? timeout = null, IEnumerable<string>? packages = null, IEnumerable<string>? programs = null)
    {
        var args = new List<string> { Script, "run", "--timeout", ((int)(timeout ?? TimeSpan.FromMinutes(10)).TotalSeconds).ToString(), "--wsd", RepositoryPaths.DaemonBinary };
        foreach (var disk in disks ?? [])
            args.AddRange(["--disk", disk]);
        foreach (var module in modules ?? [])
            args.AddRange(["--module", module]);
        if (append.Length > 0)
            args.AddRange(["--append", append]);
        foreach (var package in packages ?? [])
            args.AddRange(["--package", package]);
        foreach (var program in programs ?? [])
            args.AddRange(["--bin", program]);
        args.Add(Scenario(scenario));

        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new KernelLab(await stdout, await stderr, process.ExitCode, clock.Elapsed);
    }

    /// <summary>Fails unless every named check passed, with the scenario's output when one did not.</summary>
    public void RequirePassed(params string[] checks)
    {
        Assert.SkipWhen(SkipReason is not null, SkipReason ?? "");
        var lines = Output.Split('\n', StringSplitOptions.TrimEntries);
        var problems = new List<string>();
        foreach (var check in checks)
        {
            if (lines.Contains("PASS " + check))
                continue;
            problems.Add(lines.FirstOrDefault(l => l.StartsWith($"FAIL {check}:", StringComparison.Ordinal))
                ?? $"{check}: not reached (scenario exit {ExitCode})");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems) + $"\n--- scenario output\n{Output}\n--- lab\n{Log}");
    }
}
