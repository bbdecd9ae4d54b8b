namespace Wsd.Content;

/// <summary>
/// What content a workspace starts with (docs/compatibility.md#initializer-requests), as the domain sees
/// it: built and checked from the request by the service layer, free of gRPC types.
/// </summary>
public abstract record InitializerSpec;

public sealed record EmptySpec : InitializerSpec;

public sealed record CompositeSpec(IReadOnlyList<InitializerSpec> Children) : InitializerSpec;

public enum CloneTarget { RemoteHead, RemoteCommit, RemoteBranch, LocalBranch }

public enum GitAuth { None, Basic, BasicOts }

public sealed record GitSpec(
    string RemoteUri,
    string UpstreamRemoteUri,
    CloneTarget Mode,
    string Target,
    string CheckoutLocation,
    IReadOnlyDictionary<string, string> CustomConfig,
    GitAuth Auth,
    string AuthUser,
    string AuthPassword,
    string AuthOtsUrl,
    bool FullClone) : InitializerSpec;

/// <summary>A snapshot to restore, by its qualified name "&lt;object&gt;@&lt;bucket&gt;".</summary>
public sealed record SnapshotSpec(string Snapshot, bool FromVolumeSnapshot) : InitializerSpec;

public sealed record PrebuildSpec(SnapshotSpec? Snapshot, IReadOnlyList<GitSpec> Git) : InitializerSpec;

public sealed record DownloadFile(string Url, string FilePath, string Sha256Hex);

public sealed record DownloadSpec(IReadOnlyList<DownloadFile> Files, string TargetLocation) : InitializerSpec;

public sealed record FromBackupSpec(string CheckoutLocation, bool FromVolumeSnapshot) : InitializerSpec;

public static class InitializerSpecs
{
    /// <summary>Checkout locations in upstream's walk order (docs/compatibility.md#checkout-locations); the session keeps the first.</summary>
    public static IEnumerable<string> CheckoutLocations(InitializerSpec spec) => spec switch
    {
        GitSpec git => [git.CheckoutLocation],
        FromBackupSpec backup => [backup.CheckoutLocation],
        PrebuildSpec prebuild => prebuild.Git.Select(g => g.CheckoutLocation),
        CompositeSpec composite => composite.Children.SelectMany(CheckoutLocations),
        _ => [],
    };
}
