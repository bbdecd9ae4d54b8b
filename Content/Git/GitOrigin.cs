namespace Wsd.Content.Git;

/// <summary>
/// The scheme, host and port a git credential belongs to. The askpass program answers only prompts
/// for this origin, so a repository's .gitmodules, an insteadOf rewrite or a redirect to another
/// host never receives the password (docs/security.md).
/// </summary>
public static class GitOrigin
{
    /// <summary>"scheme://host:port" of an http(s) URL; null for anything else (local paths, ssh), which never gets a password.</summary>
    public static string? Of(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.IdnHost.Length == 0)
            return null;
        return $"{uri.Scheme}://{uri.IdnHost.ToLowerInvariant()}:{uri.Port}";
    }

    /// <summary>
    /// The origin git asks about in an askpass prompt: git writes "Username for 'https://host': " and
    /// "Password for 'https://user@host': " (a path follows with credential.useHttpPath).
    /// </summary>
    public static string? OfPrompt(string prompt)
    {
        int open = prompt.IndexOf('\'');
        int close = prompt.LastIndexOf('\'');
        return open >= 0 && close > open ? Of(prompt[(open + 1)..close]) : null;
    }
}
