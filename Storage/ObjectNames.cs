using Wsd.Errors;

namespace Wsd.Storage;

/// <summary>
/// Object names compatible with upstream's shared-bucket layout (docs/compatibility.md#object-names):
/// <c>&lt;owner&gt;/workspaces/&lt;metaId&gt;/&lt;name&gt;</c>, backups <c>full.tar</c>,
/// snapshots <c>snapshot-&lt;unixnano&gt;.tar</c>.
/// </summary>
public static class ObjectNames
{
    public const string Backup = "full.tar";

    public static string Snapshot(DateTimeOffset now) =>
        $"snapshot-{(now.ToUniversalTime() - DateTimeOffset.UnixEpoch).Ticks * 100}.tar";

    /// <summary>The key of <paramref name="name"/> for a workspace; the owner and the meta ID (upstream's workspace ID) must be single path components.</summary>
    public static string Key(string owner, string metaId, string name)
    {
        RequireComponent(owner, "owner");
        RequireComponent(metaId, "workspace ID (metadata.meta_id)");
        return $"{owner}/workspaces/{metaId}/{name}";
    }

    /// <summary>A pack of chunked backups: one owner's, named by its SHA-256 (docs/chunked-backups.md).</summary>
    public static string Pack(string owner, string packSha256)
    {
        RequireComponent(owner, "owner");
        return $"{owner}/chunks/packs/{packSha256}";
    }

    static void RequireComponent(string value, string what)
    {
        if (value.Length == 0)
            throw new WsdException(ErrorCode.InvalidArgument, $"{what} is required for remote storage");
        if (value is "." or ".." || value.IndexOfAny(['/', '\\', '@', '\0']) >= 0 || value.Length > 200)
            throw new WsdException(ErrorCode.InvalidArgument, $"{what} \"{value}\" cannot be part of an object name");
    }
}
