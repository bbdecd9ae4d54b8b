using Wsd.Content;
using Wsd.Errors;
using Wsd.Linux;

namespace Wsd.Workspaces;

/// <summary>
/// InitWorkspace and WaitForInit (docs/compatibility.md#initworkspace,
/// docs/compatibility.md#waitforinit): the session is made, its socket served and its
/// content prepared, within content.initTimeout, or everything it made is removed again. Fixes
/// upstream's cleanup that deleted an existing session with the same ID and leaked what a failed
/// creation had started (docs/compatibility.md#validation-errors-deleting-sessions,
/// docs/compatibility.md#leftovers-of-failed-inits).
/// </summary>
public sealed class WorkspaceInit(
    SessionStore sessions,
    ContentInitializer initializer,
    WorkspaceRemote remote,
    IWorkspaceSocketServer sockets,
    WorkspaceQuotas quotas,
    DiskGuard diskGuard,
    InitDeadline deadline,
    ContentProgress progress,
    ILogger<WorkspaceInit> log)
{
    /// <summary>
    /// Creates the session and its content. The init runs to completion even if the caller goes
    /// away (as upstream), within content.initTimeout; on failure the session is removed so a retry
    /// can start afresh, and waiters get FAILED_PRECONDITION.
    /// </summary>
    public async Task InitAsync(SessionSpec spec, InitializerSpec content, CancellationToken cancellationToken)
    {
        WorkspaceRemote.RequireNames(spec); // INVALID_ARGUMENT before anything is made
        diskGuard.RequireRoomForAnotherWorkspace();
        quotas.Require(spec.StorageQuotaBytes);
        var session = sessions.Create(spec);
        using var tracker = progress.Begin(spec.InstanceId, "init");
        using var scope = log.BeginScope(new Dictionary<string, object> { ["instanceId"] = spec.InstanceId, ["workspaceId"] = spec.MetaId, ["userId"] = spec.Owner });
        // The deadline answers the waiters at once, even if a step is slow to notice the cancellation.
        string overdue = $"the init took longer than content.initTimeout ({Config.Duration.Format(deadline.Timeout)})";
        using var expiry = deadline.Start();
        using var wake = expiry.Token.Register(() => sessions.MarkFailed(session, overdue));
        try
        {
            // The socket first, so workspacekit can connect while content is prepared
            // (docs/compatibility.md#initworkspace).
            await sockets.StartAsync(session.Id, sessions.Area.SocketPath(session.Id), cancellationToken);
            var target = remote.InitTarget(session, tracker);
            Directory.CreateDirectory(session.ContentLocation, (UnixFileMode)0x1ED);
            quotas.ApplyWhileInitializing(session);
            var outcome = await initializer.InitializeAsync(target, content, expiry.Token);
            ReadyMarker.Write(session.ContentLocation, outcome, target.Uid, target.Gid);
            quotas.ApplyOnceReady(session);
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
                // Unavailable: the store could not be read; nothing was kept, so the client may retry (docs/compatibility.md#content-initialization).
                WsdException { Code: ErrorCode.NotFound or ErrorCode.DataLoss or ErrorCode.InvalidArgument or ErrorCode.ResourceExhausted or ErrorCode.DeadlineExceeded or ErrorCode.Unavailable } domain => domain,
                _ when answer != e => answer,
                _ => new WsdException(ErrorCode.FailedPrecondition, $"cannot initialize workspace: {reason}", e),
            };
        }
    }

    public async Task WaitForInitAsync(string id, CancellationToken cancellationToken) =>
        await sessions.WaitForInitAsync(sessions.Get(id, "WaitForInit"), cancellationToken);
}
