using Wsd.Errors;
using Wsd.Linux;

namespace Wsd.Workspaces;

/// <summary>
/// storage_quota_bytes as XFS project quotas (docs/compatibility.md#storage-quota,
/// docs/decisions.md#quota-and-disk-guard): each limited workspace gets a project id of its own from
/// 1000-9999, persisted in its session before it is used; a soft limit while it initializes (a restore
/// may pass the live quota on its way), a hard one once ready, both removed and the id freed on dispose.
/// Ids with usage or limits on the filesystem are never handed out, so two daemons sharing a filesystem,
/// or a restart, cannot give one id twice.
/// </summary>
public sealed class WorkspaceQuotas : IDisposable
{
    public const uint FirstProjectId = 1000, LastProjectId = 9999;

    readonly Lock _lock = new();
    readonly HashSet<uint> _taken = [];
    readonly ProjectQuotaFilesystem? _filesystem;
    readonly string _whyNot;
    readonly ILogger<WorkspaceQuotas> _log;

    public WorkspaceQuotas(WorkingArea area, ILogger<WorkspaceQuotas> log)
    {
        _log = log;
        area.Create();
        _filesystem = ProjectQuotaFilesystem.Open(area.Root, out _whyNot);
        if (_filesystem is null)
            log.LogInformation("storage quotas unavailable: {reason}; only storage_quota_bytes 0 is accepted", _whyNot);
    }

    public bool Supported => _filesystem is not null;

    /// <summary>FAILED_PRECONDITION for a non-zero quota where the working area cannot enforce one.</summary>
    public void Require(long quotaBytes)
    {
        if (quotaBytes > 0 && _filesystem is null)
            throw new WsdException(ErrorCode.FailedPrecondition, $"storage_quota_bytes {quotaBytes} cannot be applied: {_whyNot}; send 0 for no limit");
    }

    /// <summary>
    /// Takes back the ids of the sessions a previous process left and re-applies their limits;
    /// a ready workspace gets its hard limit again, whatever happened to the filesystem meanwhile.
    /// </summary>
    public void Recover(IEnumerable<Session> sessions)
    {
        foreach (var session in sessions)
        {
            if (session.ProjectId == 0)
                continue;
            lock (_lock)
                _taken.Add(session.ProjectId);
            if (_filesystem is null)
            {
                _log.LogWarning("workspace {instanceId} had project quota {projectId}, but {reason}", session.Id, session.ProjectId, _whyNot);
                continue;
            }
            if (session.State == SessionState.Ready && Directory.Exists(session.ContentLocation))
            {
                ProjectQuotaFilesystem.Assign(session.ContentLocation, session.ProjectId);
                _filesystem.SetLimits(session.ProjectId, 0, session.StorageQuota);
            }
        }
    }

    /// <summary>Gives the freshly created content directory its project and the soft limit.</summary>
    public void ApplyWhileInitializing(Session session)
    {
        if (session.StorageQuota == 0)
            return;
        Require(session.StorageQuota);
        uint id = Allocate();
        try
        {
            session.SetProjectId(id); // on disk before the id is used anywhere
            ProjectQuotaFilesystem.Assign(session.ContentLocation, id);
            _filesystem!.SetLimits(id, session.StorageQuota, 0);
        }
        catch (Exception e) when (e is IOException)
        {
            throw new WsdException(ErrorCode.FailedPrecondition, $"cannot apply storage quota with project {id}: {e.Message}", e);
        }
    }

    /// <summary>Replaces the soft limit with the hard one once the content is in place.</summary>
    public void ApplyOnceReady(Session session)
    {
        if (session.ProjectId != 0)
            _filesystem?.SetLimits(session.ProjectId, 0, session.StorageQuota);
    }

    /// <summary>Removes the limits and frees the id once the content is gone.</summary>
    public void Release(Session session)
    {
        uint id = session.ProjectId;
        if (id == 0)
            return;
        try
        {
            _filesystem?.SetLimits(id, 0, 0);
        }
        catch (IOException e)
        {
            // The id stays taken in this process: better unused than handed out with stale limits.
            _log.LogWarning("cannot remove the limits of project {projectId} of {instanceId}: {error}", id, session.Id, e.Message);
            return;
        }
        lock (_lock)
            _taken.Remove(id);
    }

    /// <summary>The current limits and usage of a workspace's project (soft, hard, used bytes).</summary>
    public (long Soft, long Hard, long Used)? Read(Session session) =>
        session.ProjectId == 0 || _filesystem is null ? null : _filesystem.Read(session.ProjectId);

    uint Allocate()
    {
        lock (_lock)
        {
            // The filesystem is asked each time: another daemon on it may have taken ids since.
            var inUse = _filesystem!.InUse(FirstProjectId, LastProjectId).ToHashSet();
            for (uint id = FirstProjectId; id <= LastProjectId; id++)
            {
                if (!_taken.Contains(id) && !inUse.Contains(id))
                {
                    _taken.Add(id);
                    return id;
                }
            }
        }
        throw new WsdException(ErrorCode.ResourceExhausted, $"all project ids {FirstProjectId}-{LastProjectId} are in use on {_filesystem.Path}; no more workspaces with a storage quota fit");
    }

    public void Dispose() => _filesystem?.Dispose();
}
