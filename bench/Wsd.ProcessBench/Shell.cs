using System.Diagnostics;

namespace Wsd.ProcessBench;

/// <summary>Shell commands for the stages that drive other tools.</summary>
static class Shell
{
    /// <summary>Runs <paramref name="command"/> with bash; its exit code, or an exception when it fails and <paramref name="check"/> is set.</summary>
    public static int Run(string command, bool check = true)
    {
        using var process = Process.Start(new ProcessStartInfo("bash", ["-c", command]) { UseShellExecute = false })!;
        process.WaitForExit();
        if (check && process.ExitCode != 0)
            throw new InvalidOperationException($"'{command}' failed with {process.ExitCode}");
        return process.ExitCode;
    }
}
