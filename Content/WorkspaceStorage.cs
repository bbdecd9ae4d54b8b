using Wsd.Storage;

namespace Wsd.Content;

/// <summary>A workspace's place in remote storage: its backup and snapshot names (docs/compatibility.md#object-names).</summary>
public sealed class WorkspaceStorage(IObjectStore store, string owner, string metaId)
{
    public IObjectStore Store => store;

    public ObjectLocation Backup => new(store.Bucket, ObjectNames.Key(owner, metaId, ObjectNames.Backup));

    public ObjectLocation NewSnapshot(DateTimeOffset now) => new(store.Bucket, ObjectNames.Key(owner, metaId, ObjectNames.Snapshot(now)));
}
