using Wsd.Content;
using Wsd.Content.Git;
using Wsd.Errors;
using Wsd.Linux;
using Wsd.Observability;
using Wsd.Storage;

namespace Wsd.Workspaces;

/// <summary>
/// What the content RPCs do (docs/compatibility.md#content-service), on the session store: initialize,
/// snapshot, back up and dispose of a workspace, with upstream's defects fixed
/// (docs/compatibility.md#upstream-defects-wsd-fixes).
/// </summary>
public sealed class WorkspaceLifecycle(
    SessionStore sessions,
    ContentInitializer initializer,
    ArchiveUploader uploader,
    GitStatusReader gitStatus,
    LogUploader logs,
    IObjectStore objects,
    IWorkspaceSocketServer sockets,
    WorkspaceQuotas quotas,
    DiskGuard diskGuard,
    WorkspaceUser user,
    TimeProvider clock,
    ContentMetrics metrics,
    ContentProgress progress,
    InitDeadline deadline,
    ILogger<WorkspaceLifecycle> log)
{
    /// <summary>
    /// Creates the session and its content. The init runs to completion even if the caller goes
    /// away (as upstream), within content.initTimeout; on failure the session is removed so a retry
    /// can start afresh, and waiters get FAILED_PRECONDITION.
    /// </summary>
    public async Task InitAsync(SessionSpec spec, InitializerSpec content, CancellationToken cancellationToken)
    {
        if (!spec.RemoteStorageDisabled)
            ObjectNames.Key(spec.Owner, spec.MetaId, ObjectNames.Backup); // owner and meta_id must make object names: INVALID_ARGUMENT first
        diskGuard.RequireRoomForAnotherWorkspace();
        quotas.Require(spec.StorageQuotaBytes);
        var session = sessions.Create(spec);
        using var tracker = progress.Begin(spec.InstanceId, "init");
        using var scope = log.BeginScope(new Dictionary<string, object> { ["instanceId"] = spec.InstanceId, ["workspaceId"] = spec.MetaId, ["userId"] = spec.Owner });
        // The deadline answers the waiters at once, even if a step is slow to notice the cancellation.
        string overdue = $"the init took longer than content.initTimeout ({Config.Duration.Format(deadline.Timeout)})";
        using var expiry = new CancellationTokenSource(deadline.Timeout, clock);
        using var wake = expiry.Token.Register(() => sessions.MarkFailed(session, overdue));
        try
        {
            // The socket first, so workspacekit can connect while content is prepared
            // (docs/compatibility.md#initworkspace).
            await sockets.StartAsync(session.Id, sessions.Area.SocketPath(session.Id), cancellationToken);
            var storage = StorageOf(session);
            var target = new ContentInitializer.Target(session.ContentLocation, user.Uid, user.Gid, storage,
                storage is null ? null : new ArchiveRestorer(objects, user.Uids, user.Gids, tracker));
            Directory.CreateDirectory(session.ContentLocation, (UnixFileMode)0x1ED);
            quotas.ApplyWhileInitializing(session);
            var outcome = await initializer.InitializeAsync(target, content, expiry.Token);
            ReadyMarker.Write(session.ContentLocation, outcome, user.Uid, user.Gid);
            quotas.ApplyOnceReady(session);
            foreach (var metric in outcome.Metrics ?? [])
                metrics.InitializerFinished(metric.Type, metric.DurationNanoseconds / 1e9, metric.Size);
            wake.Dispose(); // from here the deadline cannot fail the session while it becomes ready
            expiry.Token.ThrowIfCancellationRequested();
            sessions.MarkReady(session);
            log.LogInformation("workspace content ready ({source})", outcome.Source);
        }
        catch (Exception e)
        {
            var answer = expiry.IsCancellationRequested
                ? new WsdException(ErrorCode.DeadlineExceeded, $"{overdue}; it was cancelled and what it wrote removed", e)
                : FilesystemFaults.Explain(e, "working area", sessions.Area.Root) ?? e;
            string reason = answer.Message;
            log.LogWarning("workspace init failed: {error}", reason);
            // Waiters learn of the failure first, whether or not it reaches the disk; then what the
            // init wrote goes, which on a full working area is also what frees the space.
            sessions.MarkFailed(session, reason);
            try
            {
                await sessions.DisposeAsync(session, async (s, ct) =>
                {
                    await sockets.StopAsync(s.Id);
                    return null;
                }, CancellationToken.None, quotas.Release);
            }
            catch (Exception cleanup)
            {
                // The session stays "failed" in memory: a retry or a dispose finishes the cleanup.
                log.LogError("cannot remove what the failed init of {instanceId} left; a dispose or a retry removes it: {error}", spec.InstanceId, cleanup.Message);
            }
            throw answer switch
            {
                WsdException { Code: ErrorCode.NotFound or ErrorCode.DataLoss or ErrorCode.InvalidArgument or ErrorCode.ResourceExhausted or ErrorCode.DeadlineExceeded } domain => domain,
                _ when answer != e => answer,
                _ => new WsdException(ErrorCode.FailedPrecondition, $"cannot initialize workspace: {reason}", e),
            };
        }
    }

    public async Task WaitForInitAsync(string id, CancellationToken cancellationToken) =>
        await sessions.WaitForInitAsync(sessions.Get(id, "WaitForInit"), cancellationToken);

    /// <summary>Uploads a snapshot and returns its qualified name; with returnImmediately the upload runs on in the background.</summary>
    public async Task<string> SnapshotAsync(string id, bool returnImmediately, CancellationToken cancellationToken)
    {
        var session = sessions.Get(id, "TakeSnapshot");
        if (session.State != SessionState.Ready)
            throw new WsdException(ErrorCode.FailedPrecondition, "workspace is not ready");
        var storage = StorageOf(session) ?? throw NoRemoteStorage();
        var location = storage.NewSnapshot(clock.GetUtcNow());
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        var tracker = progress.Begin(id, "snapshot");
        var upload = uploader.UploadAsync(session.ContentLocation, objects, location, returnImmediately ? CancellationToken.None : cancellationToken, tracker);
        var counted = upload.ContinueWith(t =>
        {
            tracker.Dispose();
            metrics.Uploaded("snapshot", t.IsCompletedSuccessfully, System.Diagnostics.Stopwatch.GetElapsedTime(started));
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

    public async Task<string> BackupAsync(string id, CancellationToken cancellationToken)
    {
        var session = sessions.Get(id, "BackupWorkspace");
        var storage = StorageOf(session) ?? throw NoRemoteStorage();
        if (session.State != SessionState.Ready)
            throw new WsdException(ErrorCode.FailedPrecondition, "workspace content was never ready");
        await UploadBackupAsync(session, storage, cancellationToken);
        return storage.Backup.Qualified;
    }

    /// <summary>
    /// Disposes of the workspace, after a final backup when asked. A failed backup is DATA_LOSS and
    /// keeps the content; the dispose can then be retried (docs/decisions.md#sessions-and-restarts).
    /// </summary>
    public async Task<GitStatus?> DisposeAsync(string id, bool backup, bool backupLogs, CancellationToken cancellationToken)
    {
        var session = sessions.Get(id, "DisposeWorkspace");
        var storage = StorageOf(session);
        if (backup && session.State is not (SessionState.Ready or SessionState.Disposing))
            throw new WsdException(ErrorCode.FailedPrecondition, "workspace content was never ready");
        if ((backup || backupLogs) && storage is null)
            throw NoRemoteStorage(); // checked before "disposing" is persisted, so nothing gets stuck (docs/compatibility.md#disposeworkspace)

        return await sessions.DisposeAsync(session, async (s, ct) =>
        {
            if (backupLogs && Directory.Exists(s.ContentLocation))
                await logs.UploadAsync(s.ContentLocation, objects, s.Owner, s.MetaId, s.Id, ct);
            if (backup)
                await UploadBackupAsync(s, storage!, ct);
            GitStatus? status = null;
            if (s.State != SessionState.Failed && Directory.Exists(s.ContentLocation))
            {
                try
                {
                    status = await gitStatus.ReadAsync(s.ContentLocation, s.CheckoutLocation, ct);
                }
                catch (Exception e) when (e is WsdException or IOException or UnauthorizedAccessException)
                {
                    // The checkout is the user's: a status that fails or runs out of time is no reason to keep the workspace.
                    log.LogWarning("no git status for {instanceId}: {error}", s.Id, e.Message);
                }
            }
            await sockets.StopAsync(s.Id);
            return status;
        }, cancellationToken, quotas.Release);
    }

    async Task UploadBackupAsync(Session session, WorkspaceStorage storage, CancellationToken cancellationToken)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var tracker = progress.Begin(session.Id, "backup");
        try
        {
            await uploader.UploadAsync(session.ContentLocation, objects, storage.Backup, cancellationToken, tracker);
            metrics.Uploaded("backup", succeeded: true, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        }
        catch (Exception e) when (e is not WsdException { Code: ErrorCode.ResourceExhausted })
        {
            metrics.Uploaded("backup", succeeded: false, System.Diagnostics.Stopwatch.GetElapsedTime(started));
            log.LogError(e, "backup of {instanceId} failed; its content stays on this node", session.Id);
            if (FilesystemFaults.Explain(e, "working area", sessions.Area.Root) is { Code: ErrorCode.ResourceExhausted } full)
                throw full;
            throw new WsdException(ErrorCode.DataLoss, $"final backup failed: {e.Message}", e);
        }
    }

    WorkspaceStorage? StorageOf(Session session) =>
        session.RemoteStorageDisabled ? null : new WorkspaceStorage(objects, session.Owner, session.MetaId);

    static WsdException NoRemoteStorage() => new(ErrorCode.FailedPrecondition, "workspace has no remote storage");
}
