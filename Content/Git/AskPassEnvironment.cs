namespace Wsd.Content.Git;

/// <summary>
/// The environment through which the daemon's own binary, run by git as GIT_ASKPASS, learns that it
/// is the askpass program and what it may answer (Cli/GitAskPass.cs answers; docs/security.md).
/// </summary>
public static class AskPassEnvironment
{
    public const string Marker = "WSD_GIT_ASKPASS";
    public const string User = "WSD_GIT_USER";
    public const string Password = "WSD_GIT_PASSWORD";
    public const string Origin = "WSD_GIT_ORIGIN";
}
