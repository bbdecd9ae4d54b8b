namespace Wsd.Linux.Sandbox;

/// <summary>
/// A directory the sandbox shows at <paramref name="Target"/>: <paramref name="Relative"/> resolved
/// beneath the trusted <paramref name="Root"/> with no symlink, magic link or mount crossing in it
/// (the part a workspace user controls), or <paramref name="Root"/> itself when Relative is empty.
/// </summary>
public sealed record SandboxBind(string Root, string Relative, string Target, bool Writable);

/// <summary>
/// One program to run confined (docs/security.md): new user, mount, PID, IPC, UTS and cgroup
/// namespaces; a root file system of only the system directories and <see cref="Binds"/>; uid 0 of
/// its user namespace, which is the workspace user on the node, with no capabilities; no network
/// unless <see cref="Network"/>; killed with its whole PID namespace at <see cref="Timeout"/>.
/// </summary>
public sealed record SandboxCommand
{
    /// <summary>A program name looked up in the sandbox's PATH (/usr/local/bin, /usr/bin, /bin).</summary>
    public required string Program { get; init; }

    public required IReadOnlyList<string> Arguments { get; init; }

    /// <summary>The program's whole environment; nothing of the daemon's is passed on.</summary>
    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    public required IReadOnlyList<SandboxBind> Binds { get; init; }

    /// <summary>Where the program starts, a path inside the sandbox (normally a bind's target).</summary>
    public required string WorkingDirectory { get; init; }

    /// <summary>Shares the daemon's network namespace; otherwise the sandbox has only a loopback that is down.</summary>
    public bool Network { get; init; }

    public required TimeSpan Timeout { get; init; }

    /// <summary>The most bytes kept of standard error, and of standard output when it is not read line by line.</summary>
    public int OutputLimit { get; init; } = 64 * 1024;
}

/// <summary>How a sandboxed program ended, with its output as far as it was kept.</summary>
public sealed record SandboxResult(int ExitCode, bool TimedOut, string Output, string Error);
