using Wsd.Content;
using Wsd.Errors;
using Wsd.Storage;

namespace Wsd.Workspaces;

/// <summary>
/// A session's place in the object store: the names of its backup and snapshots, and what an init
/// restores them into, as the workspace user.
/// </summary>
public sealed class WorkspaceRemote(IObjectStore objects, WorkspaceUser user)
{
    public IObjectStore Objects => objects;

    /// <summary>Refuses with INVALID_ARGUMENT an owner or meta ID that cannot name objects, before anything is made for it.</summary>
    public static void RequireNames(SessionSpec spec)
    {
        if (!spec.RemoteStorageDisabled)
            ObjectNames.Key(spec.Owner, spec.MetaId, ObjectNames.Backup);
    }

    /// <summary>Where the workspace's backup and snapshots go; null when it has no remote storage.</summary>
    public WorkspaceStorage? StorageOf(Session session) =>
        session.RemoteStorageDisabled ? null : new WorkspaceStorage(objects, session.Owner, session.MetaId);

    /// <summary>As <see cref="StorageOf"/>, and FAILED_PRECONDITION for a workspace without remote storage.</summary>
    public WorkspaceStorage RequireStorageOf(Session session) => StorageOf(session) ?? throw NoRemoteStorage();

    /// <summary>
    /// What an init of <paramref name="session"/> writes to: its content directory, owned by the
    /// workspace user, and the remote storage (and a restorer reporting to <paramref name="progress"/>) it may restore from.
    /// </summary>
    public ContentInitializer.Target InitTarget(Session session, ContentProgress.Tracker progress)
    {
        var storage = StorageOf(session);
        return new ContentInitializer.Target(session.ContentLocation, user.Uid, user.Gid, storage,
            storage is null ? null : new ArchiveRestorer(objects, user.Uids, user.Gids, progress));
    }

    public static WsdException NoRemoteStorage() => new(ErrorCode.FailedPrecondition, "workspace has no remote storage");
}
