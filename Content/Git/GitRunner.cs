using Wsd.Errors;
using Wsd.Linux.Sandbox;

namespace Wsd.Content.Git;

/// <summary>Credentials for one git operation and the origin they belong to; they reach git only through its askpass program's environment.</summary>
public sealed record GitCredentials(string User, string Password, string? Origin);

/// <summary>The outcome of one git command: standard output and error kept apart, each bounded.</summary>
public sealed record GitResult(int ExitCode, string Output, string Error)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>Both streams, for messages and for matching git's own error texts.</summary>
    public string Text => Error.Length == 0 ? Output : Output.Length == 0 ? Error : $"{Output}\n{Error}";
}

/// <summary>
/// Where a git command runs: <paramref name="Location"/> (relative, the workspace user's) beneath the
/// workspace's content directory, resolved without symlinks by the sandbox itself. Writable and
/// with the network for initializers; read-only and offline for dispose's status and log.
/// </summary>
public sealed record GitWorkTree(string ContentDirectory, string Location, bool Writable, bool Network)
{
    /// <summary>Local repositories the command reads (a file:// remote), shown read-only at their own paths.</summary>
    public IReadOnlyList<string> LocalRemotes { get; init; } = [];

    /// <summary>The checkout's path, the same inside the sandbox as on the node.</summary>
    public string Path => Location.Length == 0 ? ContentDirectory : System.IO.Path.Combine(ContentDirectory, Location);
}

/// <summary>
/// Runs the real git executable in the sandbox (docs/security.md): as the workspace user, seeing only
/// the checkout and the git installation, with a scrubbed environment, no system or global git
/// config, hooks disabled, no terminal prompts, and credentials answered by wsd's own askpass mode
/// for their origin only. A command that outlives its time is killed with everything it started.
/// </summary>
public sealed class GitRunner(SandboxLauncher sandbox, TimeSpan commandTimeout)
{
    static readonly string[] PassedThrough = ["http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"];
    static readonly string[] CertificateVariables = ["GIT_SSL_CAINFO", "GIT_SSL_CAPATH"];

    /// <summary>Runs git; a non-zero exit is a result, not an exception. Standard output goes to <paramref name="onLine"/> when given.</summary>
    public async Task<GitResult> RunAsync(GitWorkTree tree, IReadOnlyList<string> args, GitCredentials? credentials, CancellationToken cancellationToken,
        OutputLine? onLine = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["PATH"] = "/usr/local/bin:/usr/bin:/bin",
            ["HOME"] = "/nonexistent",
            ["LC_ALL"] = "C",
            ["GIT_CONFIG_NOSYSTEM"] = "1",
            ["GIT_CONFIG_GLOBAL"] = "/dev/null",
            ["GIT_TERMINAL_PROMPT"] = "0",
            ["GIT_ASKPASS"] = SandboxRoot.AskPassProgram,
            [AskPassEnvironment.Marker] = "1",
        };
        if (!tree.Writable)
            environment["GIT_OPTIONAL_LOCKS"] = "0"; // status must not try to refresh the index of a read-only checkout
        var binds = new List<SandboxBind> { new(tree.ContentDirectory, tree.Location, tree.Path, tree.Writable) };
        foreach (var remote in tree.LocalRemotes)
            binds.Add(new SandboxBind(remote, "", remote, false));
        foreach (var name in PassedThrough)
        {
            if (Environment.GetEnvironmentVariable(name) is { } value)
                environment[name] = value;
        }
        foreach (var name in CertificateVariables)
        {
            if (Environment.GetEnvironmentVariable(name) is { } value && System.IO.Path.IsPathFullyQualified(value) && (File.Exists(value) || Directory.Exists(value)))
            {
                environment[name] = value;
                binds.Add(new SandboxBind(value, "", value, false));
            }
        }
        if (credentials is { Origin: { } origin })
        {
            environment[AskPassEnvironment.Origin] = origin;
            environment[AskPassEnvironment.User] = credentials.User;
            environment[AskPassEnvironment.Password] = credentials.Password;
        }

        var command = new SandboxCommand
        {
            Program = "git",
            // Hooks and credential helpers from any config are off for every command
            // (docs/compatibility.md#git-initializer).
            Arguments = ["-c", "core.hooksPath=/dev/null", "-c", "credential.helper=", "-c", "core.fsmonitor=false", .. args],
            Environment = environment,
            Binds = binds,
            WorkingDirectory = tree.Path,
            Network = tree.Network,
            Timeout = commandTimeout,
        };
        SandboxResult result;
        try
        {
            result = await sandbox.RunAsync(command, onLine, cancellationToken);
        }
        catch (IOException e)
        {
            throw new WsdException(ErrorCode.Internal, $"git {GitException.Describe(args)}: {e.Message}", e);
        }
        if (result.TimedOut)
            throw new WsdException(ErrorCode.DeadlineExceeded, $"git {GitException.Describe(args)} did not finish within {commandTimeout.TotalSeconds:0} s and was killed");
        return new GitResult(result.ExitCode, result.Output, result.Error);
    }

    /// <summary>Runs git and turns a failure into an error in upstream's form: "git &lt;command&gt; failed (exit status N): output".</summary>
    public async Task<string> RunCheckedAsync(GitWorkTree tree, IReadOnlyList<string> args, GitCredentials? credentials, CancellationToken cancellationToken)
    {
        var result = await RunAsync(tree, args, credentials, cancellationToken);
        if (!result.Succeeded)
            throw new GitException(args, result);
        return result.Output;
    }
}

/// <summary>
/// A git command that failed. The message names the git subcommand only, never its arguments
/// (a --config value or URL can carry a secret), with git's output, URL user info masked.
/// </summary>
public sealed partial class GitException(IReadOnlyList<string> args, GitResult result)
    : WsdException(ErrorCode.FailedPrecondition, Redact($"git {Describe(args)} failed (exit status {result.ExitCode}): {result.Text.Trim()}"))
{
    public GitResult Result { get; } = result;

    /// <summary>The subcommand and its options without their values, e.g. "clone --depth=1".</summary>
    public static string Describe(IReadOnlyList<string> args) =>
        string.Join(' ', args.TakeWhile((a, i) => i == 0 || a.StartsWith('-')).Where(a => a != "--config").Select(a => a.Split('=')[0]));

    public static string Redact(string text) => UrlUserInfo().Replace(text, "://***@");

    [System.Text.RegularExpressions.GeneratedRegex(@"://[^/@\s]+@")]
    private static partial System.Text.RegularExpressions.Regex UrlUserInfo();
}
