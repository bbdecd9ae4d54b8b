using Wsd.Content;
using Wsd.Content.Git;
using Wsd.Errors;

namespace Wsd.Workspaces;

/// <summary>
/// DisposeWorkspace (docs/compatibility.md#disposeworkspace): the logs and a final backup when asked, the git status, then the
/// session, its socket, its quota and its content go. A failed backup is DATA_LOSS and keeps the
/// content, so the dispose can be retried (docs/decisions.md#sessions-and-restarts; upstream left such a
/// session in disposing, docs/compatibility.md#disposals-stuck-in-disposing).
/// </summary>
public sealed class WorkspaceDisposal(
    SessionStore sessions,
    WorkspaceRemote remote,
    WorkspaceBackups backups,
    LogUploader logs,
    GitStatusReader gitStatus,
    IWorkspaceSocketServer sockets,
    WorkspaceQuotas quotas,
    ILogger<WorkspaceDisposal> log)
{
    public async Task<GitStatus?> DisposeAsync(string id, bool backup, bool backupLogs, CancellationToken cancellationToken)
    {
        var session = sessions.Get(id, "DisposeWorkspace");
        var storage = remote.StorageOf(session);
        if (backup && session.State is not (SessionState.Ready or SessionState.Disposing))
            throw new WsdException(ErrorCode.FailedPrecondition, "workspace content was never ready");
        if ((backup || backupLogs) && storage is null)
            throw WorkspaceRemote.NoRemoteStorage(); // checked before "disposing" is persisted, so nothing gets stuck (docs/compatibility.md#disposeworkspace)

        return await sessions.DisposeAsync(session, async (s, ct) =>
        {
            if (backupLogs && Directory.Exists(s.ContentLocation))
                await logs.UploadAsync(s.ContentLocation, remote.Objects, s.Owner, s.MetaId, s.Id, ct);
            if (backup)
                await backups.UploadBackupAsync(s, storage!, ct);
            var status = s.State != SessionState.Failed && Directory.Exists(s.ContentLocation) ? await GitStatusOf(s, ct) : null;
            await sockets.StopAsync(s.Id);
            return status;
        }, cancellationToken, quotas.Release);
    }

    async Task<GitStatus?> GitStatusOf(Session session, CancellationToken cancellationToken)
    {
        try
        {
            return await gitStatus.ReadAsync(session.ContentLocation, session.CheckoutLocation, cancellationToken);
        }
        catch (Exception e) when (e is WsdException or IOException or UnauthorizedAccessException)
        {
            // The checkout is the user's: a status that fails or runs out of time is no reason to keep the workspace.
            log.LogWarning("no git status for {instanceId}: {error}", session.Id, e.Message);
            return null;
        }
    }
}
