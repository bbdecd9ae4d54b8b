using Wsd.Api.ContentService;
using Wsd.Content;
using Wsd.Errors;

namespace Wsd.Services;

/// <summary>Turns the request's initializer into the domain's, with upstream's INVALID_ARGUMENT texts (docs/compatibility.md#initializer-requests).</summary>
static class InitializerMapping
{
    const int MaxDepth = 16;

    public static InitializerSpec ToSpec(WorkspaceInitializer? initializer, int depth = 0)
    {
        if (depth > MaxDepth)
            throw new WsdException(ErrorCode.InvalidArgument, $"initializers nested deeper than {MaxDepth}");
        return initializer?.SpecCase switch
        {
            WorkspaceInitializer.SpecOneofCase.Composite =>
                new CompositeSpec([.. initializer.Composite.Initializer.Select(child => ToSpec(child, depth + 1))]),
            WorkspaceInitializer.SpecOneofCase.Git => ToGit(initializer.Git),
            WorkspaceInitializer.SpecOneofCase.Snapshot => ToSnapshot(initializer.Snapshot),
            WorkspaceInitializer.SpecOneofCase.Prebuild => new PrebuildSpec(
                initializer.Prebuild.Prebuild is { } snapshot ? ToSnapshot(snapshot) : null,
                [.. initializer.Prebuild.Git.Select(ToGit)]),
            WorkspaceInitializer.SpecOneofCase.Download => new DownloadSpec(
                [.. initializer.Download.Files.Select(ToDownload)], initializer.Download.TargetLocation),
            WorkspaceInitializer.SpecOneofCase.Backup => new FromBackupSpec(initializer.Backup.CheckoutLocation, initializer.Backup.FromVolumeSnapshot),
            _ => new EmptySpec(),
        };
    }

    static GitSpec ToGit(GitInitializer? git)
    {
        if (git is null)
            throw new WsdException(ErrorCode.InvalidArgument, "missing Git initializer spec");
        if (git.Config is null)
            throw new WsdException(ErrorCode.InvalidArgument, "Git initializer misses config");
        var mode = git.TargetMode switch
        {
            CloneTargetMode.RemoteHead => CloneTarget.RemoteHead,
            CloneTargetMode.RemoteCommit => CloneTarget.RemoteCommit,
            CloneTargetMode.RemoteBranch => CloneTarget.RemoteBranch,
            CloneTargetMode.LocalBranch => CloneTarget.LocalBranch,
            var other => throw new WsdException(ErrorCode.InvalidArgument, $"invalid target mode: {(int)other}"),
        };
        var auth = git.Config.Authentication switch
        {
            GitAuthMethod.NoAuth => GitAuth.None,
            GitAuthMethod.BasicAuth => GitAuth.Basic,
            GitAuthMethod.BasicAuthOts => GitAuth.BasicOts,
            var other => throw new WsdException(ErrorCode.InvalidArgument, $"invalid authentication method: {(int)other}"),
        };
        if (git.RemoteUri.Length == 0)
            throw new WsdException(ErrorCode.InvalidArgument, "Git initializer misses remote_uri");
        if (mode != CloneTarget.RemoteHead && git.CloneTaget.Length == 0)
            throw new WsdException(ErrorCode.InvalidArgument, $"Git initializer with target mode {git.TargetMode} needs clone_taget");
        return new GitSpec(git.RemoteUri, git.UpstreamRemoteUri, mode, git.CloneTaget, git.CheckoutLocation,
            git.Config.CustomConfig.ToDictionary(kv => kv.Key, kv => kv.Value), auth, git.Config.AuthUser, git.Config.AuthPassword,
            git.Config.AuthOts, git.FullClone);
    }

    static SnapshotSpec ToSnapshot(SnapshotInitializer snapshot) => new(snapshot.Snapshot, snapshot.FromVolumeSnapshot);

    static DownloadFile ToDownload(FileDownloadInitializer.Types.FileInfo file)
    {
        const string prefix = "sha256:";
        string hex = file.Digest.StartsWith(prefix, StringComparison.Ordinal) ? file.Digest[prefix.Length..] : "";
        if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit))
            throw new WsdException(ErrorCode.InvalidArgument, $"invalid digest {file.Digest}: expected sha256:<64 hex digits>");
        return new DownloadFile(file.Url, file.FilePath, hex);
    }
}
