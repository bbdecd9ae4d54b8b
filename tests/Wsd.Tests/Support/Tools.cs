using System.Diagnostics;

namespace Wsd.Tests.Support;

/// <summary>Runs the real tools the tests compare against (GNU tar, bsdtar, setfattr, mknod...).</summary>
public static class Tools
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static bool Exists(string tool) => Which(tool) is not null;

    /// <summary>The tool's full path on PATH; null when it is not installed.</summary>
    public static string? Which(string tool) =>
        Environment.GetEnvironmentVariable("PATH")!.Split(':').Select(dir => Path.Combine(dir, tool)).FirstOrDefault(File.Exists);

    /// <summary>Skips the test, saying why, when <paramref name="tool"/> is not installed.</summary>
    public static void Require(string tool, string package) =>
        Assert.SkipUnless(Exists(tool), $"{tool} is not installed (apt package {package}; ./build.sh deps installs it)");

    public static void RequireRoot(string why) =>
        Assert.SkipUnless(Wsd.Interop.Libc.GetEuid() == 0, $"needs root: {why}");

    public static Result Run(string tool, string workingDirectory, params string[] args) => RunWithInput(tool, workingDirectory, null, args);

    public static Result RunWithInput(string tool, string workingDirectory, string? stdinFile, params string[] args)
    {
        var start = new ProcessStartInfo(tool)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdinFile is not null,
            UseShellExecute = false,
        };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdinFile is not null)
        {
            using (var input = File.OpenRead(stdinFile))
                input.CopyTo(process.StandardInput.BaseStream);
            process.StandardInput.Close();
        }
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(true);
            throw new TimeoutException($"{tool} {string.Join(' ', args)} did not finish within 2 minutes");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs and asserts success, showing stderr when it fails.</summary>
    public static string Ok(string tool, string workingDirectory, params string[] args)
    {
        var result = Run(tool, workingDirectory, args);
        Assert.True(result.ExitCode == 0, $"{tool} {string.Join(' ', args)} failed ({result.ExitCode}): {result.Stderr}");
        return result.Stdout;
    }
}
