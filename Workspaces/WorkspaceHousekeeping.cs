namespace Wsd.Workspaces;

/// <summary>
/// Brings the sessions of an earlier daemon process back at start
/// (docs/decisions.md#sessions-and-restarts): ready ones get their workspace socket and storage quota
/// again, and uploads it left unfinished are removed. Then removes orphaned directories every five
/// minutes once they are two hours old (docs/compatibility.md#restart-and-housekeeping), and writes again
/// the session files a full or read-only working area kept from being written (docs/faults.md).
/// </summary>
public sealed class WorkspaceHousekeeping(SessionStore store, IWorkspaceSocketServer sockets, WorkspaceQuotas quotas, Storage.IObjectStore objects,
    TimeProvider clock, ILogger<WorkspaceHousekeeping> log) : BackgroundService
{
    static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);
    static readonly TimeSpan MinimumAge = TimeSpan.FromHours(2);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Uploads a crashed process left half-written were never visible as objects; drop them.
        if (objects is Storage.LocalObjectStore local)
        {
            try
            {
                if (local.RemoveAbandonedUploads() is > 0 and var removed)
                    log.LogInformation("removed {count} abandoned uploads from {root}", removed, local.Root);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.LogWarning("abandoned uploads in {root} cannot be removed now: {error}", local.Root, e.Message);
            }
        }
        var recovered = store.Recover();
        quotas.Recover(recovered);
        foreach (var session in recovered)
        {
            if (session.State == SessionState.Ready)
                await sockets.StartAsync(session.Id, store.Area.SocketPath(session.Id), cancellationToken);
        }
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        try
        {
            do
            {
                try
                {
                    if (store.RepairUnsaved() is > 0 and var unsaved)
                        log.LogWarning("{count} session files are still not up to date in {area}", unsaved, store.Area.Root);
                    store.RemoveOrphans(MinimumAge);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    log.LogWarning("housekeeping of {area} failed: {error}", store.Area.Root, e.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The daemon is stopping (or its start failed and the host is disposed): an end, not a
            // crash, which the host would report with its stack trace.
        }
    }
}
