using Wsd.Archive;

namespace Wsd.Workspaces;

/// <summary>
/// Who owns workspace content on the host and how owners shift between host and workspace: the
/// in-workspace gitpod user 33333 is host 133332 under upstream's mapping
/// (docs/compatibility.md#workspace-user-and-id-mapping).
/// </summary>
public sealed record WorkspaceUser(uint Uid, uint Gid, IdMap Uids, IdMap Gids)
{
    public static WorkspaceUser Gitpod { get; } = new(133332, 133332, IdMap.Gitpod, IdMap.Gitpod);
}
