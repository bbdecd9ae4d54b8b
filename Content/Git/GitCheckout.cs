namespace Wsd.Content.Git;

/// <summary>
/// The git initializer (docs/compatibility.md#git-initializer): clone into the checkout location as the
/// workspace user, then bring it to the requested head, branch or commit; an optional upstream remote;
/// submodules. Every command runs in the sandbox; credentials go only to the commands that talk to a
/// remote.
/// </summary>
public sealed partial class GitCheckout(GitRunner git, HttpClient http, ILogger<GitCheckout> log)
{
    const int CloneAttempts = 3;

    /// <summary>Clones and checks out; does nothing when the checkout is already a working copy.</summary>
    public async Task RunAsync(GitSpec spec, string contentDirectory, uint uid, uint gid, CancellationToken cancellationToken)
    {
        RequireNotAnOption(spec.RemoteUri, "remote_uri");
        RequireNotAnOption(spec.UpstreamRemoteUri, "upstream_Remote_uri");
        RequireNotAnOption(spec.Target, "clone_taget");
        string location = ContentPaths.Inside(contentDirectory, spec.CheckoutLocation, "checkout_location");
        if (Directory.Exists(Path.Combine(location, ".git")))
            return;
        ContentPaths.CreateDirectories(contentDirectory, location, uid, gid);
        string relative = Path.GetRelativePath(contentDirectory, location) is var r && r == "." ? "" : r;
        var tree = new GitWorkTree(contentDirectory, relative, Writable: true, Network: true)
        {
            LocalRemotes = [.. new[] { spec.RemoteUri, spec.UpstreamRemoteUri }.Select(LocalRepository).OfType<string>()],
        };
        var credentials = new GitCredentialSource(spec, http);

        await CloneAsync(spec, tree, credentials, cancellationToken);
        var creds = await credentials.GetAsync(cancellationToken);
        await git.RunAsync(tree, ["config", "--replace-all", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*"], null, cancellationToken);
        await git.RunAsync(tree, ["config", "--replace-all", "checkout.defaultRemote", "origin"], null, cancellationToken);
        await RealizeTargetAsync(spec, tree, creds, cancellationToken);

        if (spec.UpstreamRemoteUri.Length > 0)
        {
            await git.RunCheckedAsync(tree, ["remote", "add", "--", "upstream", spec.UpstreamRemoteUri], null, cancellationToken);
            await git.RunCheckedAsync(tree, ["fetch", "upstream"], creds, cancellationToken);
        }
        var submodules = await git.RunAsync(tree, ["submodule", "update", "--init", "--recursive"], creds, cancellationToken);
        if (!submodules.Succeeded)
            log.LogWarning("git submodule update failed in {location}: {output}", location, GitException.Redact(submodules.Text.Trim()));
    }

    async Task CloneAsync(GitSpec spec, GitWorkTree tree, GitCredentialSource credentials, CancellationToken cancellationToken)
    {
        var args = new List<string> { "clone" };
        if (!spec.FullClone)
            args.AddRange(["--depth=1", "--shallow-submodules"]);
        foreach (var (key, value) in spec.CustomConfig)
            args.AddRange(["--config", $"{key.Trim()}={value.Trim()}"]);
        if (spec.RemoteUri.Contains("gitlab.com", StringComparison.Ordinal))
            args.AddRange(["--config", "http.version=HTTP/1.1"]);
        args.AddRange(["--", spec.RemoteUri, "."]);

        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await git.RunCheckedAsync(tree, args, await credentials.GetAsync(cancellationToken), cancellationToken);
                return;
            }
            catch (GitException e) when (attempt < CloneAttempts && !IsPermanent(e))
            {
                log.LogWarning("git clone attempt {attempt} failed, retrying: {error}", attempt, e.Message);
                ContentPaths.Empty(tree.Path); // a half clone must not stay behind
                await Task.Delay(TimeSpan.FromSeconds(attempt), cancellationToken);
            }
        }
    }

    // Git reads options anywhere on its command line: a "remote" or "branch" starting with '-' would be one.
    static void RequireNotAnOption(string value, string field)
    {
        if (value.StartsWith('-') || value.Contains('\0') || value.Contains('\n'))
            throw new Errors.WsdException(Errors.ErrorCode.InvalidArgument, $"git initializer: {field} \"{value}\" is not a valid value");
    }

    // A remote on this node's file system: the sandbox shows it read-only, nothing else of the node.
    static string? LocalRepository(string remote)
    {
        if (remote.StartsWith("file://", StringComparison.Ordinal) && Uri.TryCreate(remote, UriKind.Absolute, out var uri))
            return uri.LocalPath;
        return remote.StartsWith('/') ? remote : null;
    }

    static bool IsPermanent(GitException e) =>
        e.Result.Text.Contains("Access denied", StringComparison.Ordinal) ||
        e.Result.Text.Contains("Authentication failed", StringComparison.Ordinal) ||
        e.Result.Text.Contains("not found", StringComparison.OrdinalIgnoreCase) ||
        e.Result.Text.Contains("does not exist", StringComparison.OrdinalIgnoreCase);

    /// <summary>Checks out what the spec asks for in an existing clone.</summary>
    async Task RealizeTargetAsync(GitSpec spec, GitWorkTree tree, GitCredentials? creds, CancellationToken cancellationToken)
    {
        switch (spec.Mode)
        {
            case CloneTarget.RemoteHead:
                var reset = await git.RunAsync(tree, ["reset", "--hard", "origin/HEAD"], null, cancellationToken);
                // An empty remote has no HEAD to reset to; that is not an error
                // (docs/compatibility.md#git-initializer).
                if (!reset.Succeeded && !reset.Text.Contains("unknown revision or path not in the working tree", StringComparison.Ordinal))
                    throw new GitException(["reset", "--hard", "origin/HEAD"], reset);
                break;
            case CloneTarget.RemoteBranch:
                // The remote's default branch name comes from the remote: it is used only if it is a plain branch name.
                string defaultBranch = (await git.RunAsync(tree, ["rev-parse", "--abbrev-ref", "origin/HEAD"], null, cancellationToken))
                    .Output.Trim().Replace("origin/", "", StringComparison.Ordinal);
                var exists = await git.RunAsync(tree, ["ls-remote", "--exit-code", "origin", "--", spec.Target], creds, cancellationToken);
                string fetchTarget = exists.Succeeded && exists.Output.Trim().Length > 0 ? spec.Target : defaultBranch;
                if (!IsBranchName(fetchTarget))
                    throw new Errors.WsdException(Errors.ErrorCode.FailedPrecondition, $"git initializer: the remote's default branch \"{fetchTarget}\" is not a usable branch name");
                bool shallow = (await git.RunAsync(tree, ["rev-parse", "--is-shallow-repository"], null, cancellationToken)).Output.Trim() == "true";
                await git.RunCheckedAsync(tree, shallow
                    ? ["fetch", "--depth=1", "--recurse-submodules=no", "origin", "--", fetchTarget]
                    : ["fetch", "--recurse-submodules=no", "origin", "--", fetchTarget], creds, cancellationToken);
                await git.RunCheckedAsync(tree, ["checkout", "-B", spec.Target, $"origin/{fetchTarget}", "--"], null, cancellationToken);
                break;
            case CloneTarget.LocalBranch:
                await git.RunCheckedAsync(tree, ["checkout", "-B", spec.Target, "origin/HEAD", "--no-track", "--"], null, cancellationToken);
                break;
            case CloneTarget.RemoteCommit:
                await git.RunCheckedAsync(tree, ["fetch", "--depth=20", "origin", "--", spec.Target], creds, cancellationToken);
                await git.RunCheckedAsync(tree, ["checkout", spec.Target, "--"], null, cancellationToken);
                break;
        }
    }

    // A conservative subset of git check-ref-format: what a default branch is in practice.
    static bool IsBranchName(string name) =>
        name.Length is > 0 and <= 255 && BranchName().IsMatch(name) && !name.Contains("..", StringComparison.Ordinal)
        && !name.EndsWith(".lock", StringComparison.Ordinal) && !name.EndsWith('/') && !name.Contains("//", StringComparison.Ordinal);

    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9._/+-]*$")]
    private static partial System.Text.RegularExpressions.Regex BranchName();
}
