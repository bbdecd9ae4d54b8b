using System.Diagnostics;
using Wsd.Errors;
using Wsd.Interop;

namespace Wsd.Linux;

/// <summary>
/// Starts the daemon's own binary as a member of another process's PID namespace. setns(CLONE_NEWPID)
/// changes only the namespace of the calling thread's future children, and a .NET process cannot
/// fork safely into managed code, so a dedicated thread joins the namespace (through the target's
/// pidfd, so a PID reused meanwhile cannot redirect it) and starts the helper (Process.Start forks
/// on the calling thread); the helper begins as a fresh process in it. The thread ends afterwards,
/// so no other work ever runs with the changed namespace.
/// <para>
/// Each helper is a root process that may live up to <see cref="Limit"/>, started on a workspace's
/// request; at most <paramref name="maxConcurrent"/> run at once on the node, and a request past
/// that is refused at once with RESOURCE_EXHAUSTED rather than queued behind the others.
/// </para>
/// </summary>
public sealed class NamespaceHelper(string executable, int maxConcurrent = NamespaceHelper.DefaultMaxConcurrent)
{
    public const int DefaultMaxConcurrent = 16;

    static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    /// <summary>The helper's exit status for a target the caller sent that cannot be used (INVALID_ARGUMENT).</summary>
    public const int BadTargetExit = 3;

    readonly SemaphoreSlim _running = new(maxConcurrent, maxConcurrent);

    public sealed record Result(int ExitCode, string Error);

    public async Task<Result> RunInPidNamespaceOfAsync(ProcessHandle target, IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        if (!_running.Wait(0, CancellationToken.None))
            throw new WsdException(ErrorCode.ResourceExhausted,
                $"too many namespace helpers: {maxConcurrent} are running on this node (MountProc, MountSysfs, MountNfs and their unmounts each start one); try again in a few seconds");
        try
        {
            return await RunAsync(target, args, cancellationToken);
        }
        finally
        {
            _running.Release();
        }
    }

    async Task<Result> RunAsync(ProcessHandle target, IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        using var process = await NamespaceThread.RunAsync("wsd-ns-helper", () =>
        {
            NamespaceCalls.Join(target.PidFd, NamespaceCalls.NewPid, $"the PID namespace of PID {target.Pid}");
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
