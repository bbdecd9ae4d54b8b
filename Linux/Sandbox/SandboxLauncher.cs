using Wsd.Interop;

namespace Wsd.Linux.Sandbox;

/// <summary>
/// Runs a <see cref="SandboxCommand"/>: the daemon's own binary is cloned into new user, mount, PID,
/// IPC, UTS and cgroup namespaces (and a network namespace unless the command needs the network),
/// with its uid and gid 0 mapped to the workspace user's, and builds the sandbox there
/// (<see cref="SandboxRoot"/>). The program becomes PID 1 of its PID namespace, so killing it through
/// its pidfd at the deadline takes every process it started with it. Output is kept only up to a
/// bound, or handed over line by line.
/// </summary>
public sealed class SandboxLauncher(string daemonBinary, uint uid, uint gid)
{
    /// <summary>Lines longer than this are cut: git's own lines are paths and short records.</summary>
    public const int MaxLineBytes = 16 * 1024;

    /// <summary>Runs the command to its end, its deadline or the caller's cancellation (then OperationCanceledException).</summary>
    public async Task<SandboxResult> RunAsync(SandboxCommand command, OutputLine? onOutputLine, CancellationToken cancellationToken)
    {
        var argv = new List<string> { daemonBinary };
        argv.AddRange(SandboxArguments.Format(command));
        var envp = command.Environment.Select(e => $"{e.Key}={e.Value}").Append("DOTNET_EnableDiagnostics=0").ToList();
        ulong namespaces = NamespacedSpawn.NewUser | NamespacedSpawn.NewNamespace | NamespacedSpawn.NewPid | NamespacedSpawn.NewIpc
            | NamespacedSpawn.NewUts | NamespacedSpawn.NewCgroup | (command.Network ? 0 : NamespacedSpawn.NewNet);

        var (outputRead, outputWrite) = Pipes.Create();
        var (errorRead, errorWrite) = Pipes.Create();
        int nothing = Directories.OpenFile("/dev/null");
        var started = new TaskCompletionSource<NamespacedSpawn.Child>(TaskCreationOptions.RunContinuationsAsynchronously);
        var exited = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        // The thread that clones the child is its parent for PR_SET_PDEATHSIG: it lives until the
        // child is reaped, so the sandbox dies with the daemon and never with a pool thread.
        var thread = new Thread(() =>
        {
            NamespacedSpawn.Child child;
            try
            {
                child = NamespacedSpawn.Start(namespaces, daemonBinary, argv, envp, [(nothing, 0), (outputWrite, 1), (errorWrite, 2)], WriteIdentity);
            }
            catch (Exception e)
            {
                started.SetException(e);
                return;
            }
            finally
            {
                Libc.Close(nothing);
                Libc.Close(outputWrite);
                Libc.Close(errorWrite);
            }
            started.SetResult(child);
            try
            {
                exited.SetResult(NamespacedSpawn.Wait(child.Pidfd));
            }
            catch (Exception e)
            {
                exited.SetException(e);
            }
        }) { IsBackground = true, Name = "wsd-sandbox" };
        thread.Start();

        using var output = Pipes.Reader(outputRead);
        using var error = Pipes.Reader(errorRead);
        var child = await started.Task;
        bool timedOut = false;
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(command.Timeout);
            using (deadline.Token.Register(() =>
            {
                timedOut = !cancellationToken.IsCancellationRequested;
                NamespacedSpawn.Kill(child.Pidfd);
            }))
            {
                var outputText = onOutputLine is null ? BoundedOutput.CaptureAsync(output, command.OutputLimit) : BoundedOutput.LinesAsync(output, MaxLineBytes, onOutputLine);
                var errorText = BoundedOutput.CaptureAsync(error, command.OutputLimit);
                int status = await exited.Task;
                // Every writer died with the PID namespace, so both pipes reach their end.
                string stdout = await outputText, stderr = await errorText;
                cancellationToken.ThrowIfCancellationRequested();
                if (status == SandboxRoot.SetupFailedExit && stderr.StartsWith("wsd sandbox: ", StringComparison.Ordinal))
                    throw new IOException($"the sandbox could not be set up: {stderr["wsd sandbox: ".Length..].Trim()}");
                if (status == NamespacedSpawn.SetupFailedExit && !timedOut)
                    throw new IOException("the sandbox could not be set up: its process failed before exec");
                return new SandboxResult(status, timedOut, stdout, stderr);
            }
        }
        finally
        {
            Libc.Close(child.Pidfd);
        }
    }

    // Runs while the child waits: uid and gid 0 inside are the workspace user on the node (or, for
    // a daemon that is not root, the daemon's own user, the only one it may map); the child is the
    // OOM killer's first choice, never the daemon.
    void WriteIdentity(int pid)
    {
        string dir = Path.Combine("/proc", pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        uint euid = Libc.GetEuid();
        if (euid == 0)
        {
            File.WriteAllText(Path.Combine(dir, "uid_map"), $"0 {uid} 1\n");
            File.WriteAllText(Path.Combine(dir, "gid_map"), $"0 {gid} 1\n");
        }
        else
        {
            File.WriteAllText(Path.Combine(dir, "setgroups"), "deny");
            File.WriteAllText(Path.Combine(dir, "uid_map"), $"0 {euid} 1\n");
            File.WriteAllText(Path.Combine(dir, "gid_map"), $"0 {Libc.GetEgid()} 1\n");
        }
        File.WriteAllText(Path.Combine(dir, "oom_score_adj"), "1000");
    }
}
