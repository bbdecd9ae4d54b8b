using System.Diagnostics;
using System.Text;
using Wsd.Errors;

namespace Wsd.Content.Git;

/// <summary>Credentials for one git operation; they reach git only through its askpass program's environment.</summary>
public sealed record GitCredentials(string User, string Password);

/// <summary>The outcome of one git command.</summary>
public sealed record GitResult(int ExitCode, string Output)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// Runs the real git executable as the workspace's user (SPEC §4): through <c>wsd internal-exec</c>
/// when the daemon is root, with a scrubbed environment, no system or global git config, hooks
/// disabled, no terminal prompts, and credentials answered by wsd's own askpass mode.
/// </summary>
public sealed class GitRunner(uint uid, uint gid, string daemonBinary)
{
    static readonly string[] PassedThrough = ["PATH", "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "GIT_SSL_CAINFO", "GIT_SSL_CAPATH"];

    /// <summary>Runs git; a non-zero exit is a result, not an exception.</summary>
    public async Task<GitResult> RunAsync(string workingDirectory, IReadOnlyList<string> args, GitCredentials? credentials, CancellationToken cancellationToken)
    {
        bool asOtherUser = Interop.Libc.GetEuid() == 0 && uid != 0;
        var start = new ProcessStartInfo(asOtherUser ? daemonBinary : "git")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (asOtherUser)
        {
            foreach (var prefix in new[] { "internal-exec", uid.ToString(), gid.ToString(), "git" })
                start.ArgumentList.Add(prefix);
        }
        // Hooks and credential helpers from any config are off for every command (REF §4.6, §9.2 item 5).
        foreach (var option in new[] { "-c", "core.hooksPath=/dev/null", "-c", "credential.helper=", "-c", "core.fsmonitor=false" })
            start.ArgumentList.Add(option);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);

        start.Environment.Clear();
        foreach (var name in PassedThrough)
        {
            if (Environment.GetEnvironmentVariable(name) is { } value)
                start.Environment[name] = value;
        }
        start.Environment["HOME"] = "/nonexistent";
        start.Environment["LC_ALL"] = "C";
        start.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        start.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        start.Environment["GIT_ASKPASS"] = daemonBinary;
        start.Environment[Cli.GitAskPass.Marker] = "1";
        if (credentials is not null)
        {
            start.Environment[Cli.GitAskPass.UserVariable] = credentials.User;
            start.Environment[Cli.GitAskPass.PasswordVariable] = credentials.Password;
        }

        using var process = Process.Start(start) ?? throw new WsdException(ErrorCode.Internal, "cannot start git");
        process.StandardInput.Close();
        var output = new StringBuilder();
        var stdout = Pump(process.StandardOutput, output);
        var stderr = Pump(process.StandardError, output);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        await Task.WhenAll(stdout, stderr);
        return new GitResult(process.ExitCode, output.ToString());
    }

    /// <summary>Runs git and turns a failure into an error in upstream's form: "git &lt;args&gt; failed (exit status N): output".</summary>
    public async Task<string> RunCheckedAsync(string workingDirectory, IReadOnlyList<string> args, GitCredentials? credentials, CancellationToken cancellationToken)
    {
        var result = await RunAsync(workingDirectory, args, credentials, cancellationToken);
        if (!result.Succeeded)
            throw new GitException(args, result);
        return result.Output;
    }

    static async Task Pump(StreamReader reader, StringBuilder sink)
    {
        var buffer = new char[4096];
        int n;
        while ((n = await reader.ReadAsync(buffer)) > 0)
        {
            lock (sink)
                sink.Append(buffer, 0, n);
        }
    }
}

/// <summary>A git command that failed; the message names the command and carries git's output, with URL passwords masked.</summary>
public sealed partial class GitException(IReadOnlyList<string> args, GitResult result)
    : WsdException(ErrorCode.FailedPrecondition, Redact($"git {string.Join(' ', args)} failed (exit status {result.ExitCode}): {result.Output.Trim()}"))
{
    public GitResult Result { get; } = result;

    static string Redact(string text) => UrlUserInfo().Replace(text, "://***@");

    [System.Text.RegularExpressions.GeneratedRegex(@"://[^/@\s]+@")]
    private static partial System.Text.RegularExpressions.Regex UrlUserInfo();
}
