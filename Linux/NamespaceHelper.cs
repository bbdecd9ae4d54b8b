using System.Diagnostics;
using Wsd.Interop;

namespace Wsd.Linux;

/// <summary>
/// Starts the daemon's own binary as a member of another process's PID namespace. setns(CLONE_NEWPID)
/// changes only the namespace of the calling thread's future children, and a .NET process cannot
/// fork safely into managed code, so a dedicated thread joins the namespace and starts the helper
/// (Process.Start forks on the calling thread); the helper begins as a fresh process in it. The
/// thread ends afterwards, so no other work ever runs with the changed namespace.
/// </summary>
public sealed class NamespaceHelper(string executable, string procRoot)
{
    static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    /// <summary>The helper's exit status for a target the caller sent that cannot be used (INVALID_ARGUMENT).</summary>
    public const int BadTargetExit = 3;

    public sealed record Result(int ExitCode, string Error);

    public async Task<Result> RunInPidNamespaceOfAsync(int pid, IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        using var process = await NamespaceThread.RunAsync("wsd-ns-helper", () =>
        {
            MountCalls.Join(Path.Combine(procRoot, pid.ToString(), "ns", "pid"), MountCalls.NewPid);
            var start = new ProcessStartInfo(executable) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            start.Environment.Clear();
            foreach (var arg in args)
                start.ArgumentList.Add(arg);
            return Process.Start(start)!;
        });
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(Limit, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            process.Kill();
            throw new IOException($"the namespace helper did not finish within {Limit.TotalSeconds} s", e);
        }
        await output;
        return new Result(process.ExitCode, (await error).Trim());
    }
}
