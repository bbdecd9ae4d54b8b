using Wsd.Content;
using Wsd.Errors;
using Wsd.Linux;
using Wsd.Observability;

namespace Wsd.Workspaces;

/// <summary>
/// TakeSnapshot and BackupWorkspace (docs/compatibility.md#takesnapshot,
/// docs/compatibility.md#backupworkspace), and the final backup a dispose makes: one
/// upload run, timed, counted and reported on /progress, whose failures say what an operator can do;
/// an upload error is never swallowed into a backup that does not exist (docs/compatibility.md#failed-uploads-reported-as-success).
/// </summary>
public sealed class WorkspaceBackups(
    SessionStore sessions,
    WorkspaceRemote remote,
    ArchiveUploader uploader,
    ContentProgress progress,
    ContentMetrics metrics,
    TimeProvider clock,
    ILogger<WorkspaceBackups> log)
{
    /// <summary>Uploads a snapshot and returns its qualified name; with returnImmediately the upload runs on in the background.</summary>
    public async Task<string> SnapshotAsync(string id, bool returnImmediately, CancellationToken cancellationToken)
    {
        var session = sessions.Get(id, "TakeSnapshot");
        if (session.State != SessionState.Ready)
            throw new WsdException(ErrorCode.FailedPrecondition, "workspace is not ready");
        var storage = remote.RequireStorageOf(session);
        var location = storage.NewSnapshot(clock.GetUtcNow());
        long started = clock.GetTimestamp();
        var tracker = progress.Begin(id, "snapshot");
        var upload = uploader.UploadAsync(session.ContentLocation, remote.Objects, location, returnImmediately ? CancellationToken.None : cancellationToken, tracker);
        var counted = upload.ContinueWith(t =>
        {
            tracker.Dispose();
            metrics.Uploaded("snapshot", t.IsCompletedSuccessfully, clock.GetElapsedTime(started));
        }, TaskScheduler.Default);
        if (returnImmediately)
        {
            _ = upload.ContinueWith(t => log.LogError(t.Exception, "background snapshot {snapshot} of {instanceId} failed", location.Qualified, id),
                TaskContinuationOptions.OnlyOnFaulted);
            return location.Qualified;
        }
        try
        {
            await upload;
        }
        catch (Exception e) when (e is not WsdException { Code: ErrorCode.ResourceExhausted })
        {
            log.LogError(e, "snapshot {snapshot} of {instanceId} failed", location.Qualified, id);
            throw FilesystemFaults.Explain(e, "working area", sessions.Area.Root)
                ?? new WsdException(ErrorCode.Internal, $"cannot upload snapshot: {e.Message}", e);
        }
        finally
        {
            await counted;
        }
        return location.Qualified;
    }

    /// <summary>Uploads the workspace's backup under its one name and returns that name.</summary>
    public async Task<string> BackupAsync(string id, CancellationToken cancellationToken)
    {
        var session = sessions.Get(id, "BackupWorkspace");
        var storage = remote.RequireStorageOf(session);
        if (session.State != SessionState.Ready)
            throw new WsdException(ErrorCode.FailedPrecondition, "workspace content was never ready");
        await UploadBackupAsync(session, storage, cancellationToken);
        return storage.Backup.Qualified;
    }

    /// <summary>
    /// The backup run BackupWorkspace and a dispose share. A failure is DATA_LOSS (the content
    /// stays on this node), or RESOURCE_EXHAUSTED when the working area is full.
    /// </summary>
    internal async Task UploadBackupAsync(Session session, WorkspaceStorage storage, CancellationToken cancellationToken)
    {
        long started = clock.GetTimestamp();
        using var tracker = progress.Begin(session.Id, "backup");
        try
        {
            // The files cache goes with the backup, whose predecessor names the chunks it may reuse; a
            // snapshot has no predecessor of its name yet (docs/chunked-backups.md, "Files cache").
            await uploader.UploadAsync(session.ContentLocation, remote.Objects, storage.Backup, cancellationToken, tracker, sessions.Area.FilesCache(session.Id));
            metrics.Uploaded("backup", succeeded: true, clock.GetElapsedTime(started));
        }
        catch (Exception e) when (e is not WsdException { Code: ErrorCode.ResourceExhausted })
        {
            metrics.Uploaded("backup", succeeded: false, clock.GetElapsedTime(started));
            log.LogError(e, "backup of {instanceId} failed; its content stays on this node", session.Id);
            if (FilesystemFaults.Explain(e, "working area", sessions.Area.Root) is { Code: ErrorCode.ResourceExhausted } full)
                throw full;
            throw new WsdException(ErrorCode.DataLoss, $"final backup failed: {e.Message}", e);
        }
    }
}
