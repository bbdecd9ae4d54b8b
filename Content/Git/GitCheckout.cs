namespace Wsd.Content.Git;

/// <summary>
/// The git initializer (REF §4.6): clone into the checkout location as the workspace user, then
/// bring it to the requested head, branch or commit; an optional upstream remote; submodules.
/// </summary>
public sealed class GitCheckout(GitRunner git, HttpClient http, ILogger<GitCheckout> log)
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
        var credentials = new GitCredentialSource(spec, http);

        await CloneAsync(spec, location, credentials, cancellationToken);
        var creds = await credentials.GetAsync(cancellationToken);
        await git.RunAsync(location, ["config", "--replace-all", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*"], null, cancellationToken);
        await git.RunAsync(location, ["config", "--replace-all", "checkout.defaultRemote", "origin"], null, cancellationToken);
        await RealizeTargetAsync(spec, location, creds, cancellationToken);

        if (spec.UpstreamRemoteUri.Length > 0)
        {
            await git.RunCheckedAsync(location, ["remote", "add", "upstream", spec.UpstreamRemoteUri], null, cancellationToken);
            await git.RunCheckedAsync(location, ["fetch", "upstream"], creds, cancellationToken);
        }
        var submodules = await git.RunAsync(location, ["submodule", "update", "--init", "--recursive"], creds, cancellationToken);
        if (!submodules.Succeeded)
            log.LogWarning("git submodule update failed in {location}: {output}", location, submodules.Output.Trim());
    }

    async Task CloneAsync(GitSpec spec, string location, GitCredentialSource credentials, CancellationToken cancellationToken)
    {
        var args = new List<string> { "clone" };
        if (!spec.FullClone)
            args.AddRange(["--depth=1", "--shallow-submodules"]);
        args.Add(spec.RemoteUri);
        foreach (var (key, value) in spec.CustomConfig)
            args.AddRange(["--config", $"{key.Trim()}={value.Trim()}"]);
        if (spec.RemoteUri.Contains("gitlab.com", StringComparison.Ordinal))
            args.AddRange(["--config", "http.version=HTTP/1.1"]);
        args.Add(".");

        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await git.RunCheckedAsync(location, args, await credentials.GetAsync(cancellationToken), cancellationToken);
                return;
            }
            catch (GitException e) when (attempt < CloneAttempts && !IsPermanent(e))
            {
                log.LogWarning("git clone attempt {attempt} failed, retrying: {error}", attempt, e.Message);
                ContentPaths.Empty(location); // a half clone must not stay behind
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

    static bool IsPermanent(GitException e) =>
        e.Result.Output.Contains("Access denied", StringComparison.Ordinal) ||
        e.Result.Output.Contains("Authentication failed", StringComparison.Ordinal) ||
        e.Result.Output.Contains("not found", StringComparison.OrdinalIgnoreCase) ||
        e.Result.Output.Contains("does not exist", StringComparison.OrdinalIgnoreCase);

    /// <summary>Checks out what the spec asks for in an existing clone (also used by prebuilds).</summary>
    public async Task RealizeTargetAsync(GitSpec spec, string location, GitCredentials? creds, CancellationToken cancellationToken)
    {
        switch (spec.Mode)
        {
            case CloneTarget.RemoteHead:
                var reset = await git.RunAsync(location, ["reset", "--hard", "origin/HEAD"], creds, cancellationToken);
                // An empty remote has no HEAD to reset to; that is not an error (REF §4.6).
                if (!reset.Succeeded && !reset.Output.Contains("unknown revision or path not in the working tree", StringComparison.Ordinal))
                    throw new GitException(["reset", "--hard", "origin/HEAD"], reset);
                break;
            case CloneTarget.RemoteBranch:
                string defaultBranch = (await git.RunAsync(location, ["rev-parse", "--abbrev-ref", "origin/HEAD"], creds, cancellationToken))
                    .Output.Trim().Replace("origin/", "", StringComparison.Ordinal);
                var exists = await git.RunAsync(location, ["ls-remote", "--exit-code", "origin", spec.Target], creds, cancellationToken);
                string fetchTarget = exists.Succeeded && exists.Output.Trim().Length > 0 ? spec.Target : defaultBranch;
                bool shallow = (await git.RunAsync(location, ["rev-parse", "--is-shallow-repository"], creds, cancellationToken)).Output.Trim() == "true";
                await git.RunCheckedAsync(location, shallow
                    ? ["fetch", "--depth=1", "origin", "--recurse-submodules=no", fetchTarget]
                    : ["fetch", "origin", "--recurse-submodules=no", fetchTarget], creds, cancellationToken);
                await git.RunCheckedAsync(location, ["checkout", "-B", spec.Target, $"origin/{fetchTarget}"], creds, cancellationToken);
                break;
            case CloneTarget.LocalBranch:
                await git.RunCheckedAsync(location, ["checkout", "-B", spec.Target, "origin/HEAD", "--no-track"], creds, cancellationToken);
                break;
            case CloneTarget.RemoteCommit:
                await git.RunCheckedAsync(location, ["fetch", "origin", spec.Target, "--depth=20"], creds, cancellationToken);
                await git.RunCheckedAsync(location, ["checkout", spec.Target], creds, cancellationToken);
                break;
        }
    }
}
