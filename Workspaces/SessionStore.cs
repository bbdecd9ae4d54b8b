using System.Collections.Concurrent;
using System.Text.Json;
using Wsd.Content.Git;
using Wsd.Errors;

namespace Wsd.Workspaces;

/// <summary>
/// The sessions of this node (docs/compatibility.md#working-area-and-sessions), fixing upstream's defects
/// (docs/compatibility.md#upstream-defects-wsd-fixes): creation is persisted, waits are race-free and
/// cancellable, exactly one of concurrent disposals does the work and a failed one can be retried, and
/// nothing holds a store-wide lock across I/O.
/// </summary>
public sealed class SessionStore(WorkingArea area, TimeProvider clock, ILogger<SessionStore> log)
{
    readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);

    public WorkingArea Area => area;

    public bool Exists(string id) => _sessions.ContainsKey(id);

    public bool TryGet(string id, out Session session) => _sessions.TryGetValue(id, out session!);

    /// <summary>The session, or NOT_FOUND in upstream's words for <paramref name="rpc"/> (docs/compatibility.md#status-codes-and-messages).</summary>
    public Session Get(string id, string rpc) =>
        _sessions.TryGetValue(id, out var session)
            ? session
            : throw new WsdException(ErrorCode.NotFound, $"cannot find workspace {id} during {rpc}");

    /// <summary>Creates and persists a session in state initializing; ALREADY_EXISTS when the ID is taken.</summary>
    public Session Create(SessionSpec spec)
    {
        InstanceId.Validate(spec.InstanceId);
        if (CorruptSessionFile(spec.InstanceId) is { } corrupt)
            throw new WsdException(ErrorCode.FailedPrecondition,
                $"workspace {spec.InstanceId} had a session file that could not be read; it was moved to {corrupt} and its content is kept at " +
                $"{area.ContentDir(spec.InstanceId)}: inspect them, remove both, then retry");
        var file = new SessionFile
        {
            Location = area.ContentDir(spec.InstanceId),
            CheckoutLocation = spec.CheckoutLocation,
            CreatedAt = clock.GetUtcNow().UtcDateTime,
            Owner = spec.Owner,
            MetaId = spec.MetaId,
            InstanceId = spec.InstanceId,
            ServiceLocNode = area.ServiceDir(spec.InstanceId),
            ServiceLocDaemon = area.ServiceDir(spec.InstanceId),
            RemoteStorageDisabled = spec.RemoteStorageDisabled,
            StorageQuota = spec.StorageQuotaBytes,
            State = SessionStates.ToText(SessionState.Initializing),
        };
        var session = new Session(file, area.SessionFile(spec.InstanceId), SessionState.Initializing);
        // The map decides who owns the ID; the file is written by the winner only.
        if (!_sessions.TryAdd(spec.InstanceId, session))
            throw new WsdException(ErrorCode.AlreadyExists, "workspace exists already");
        try
        {
            // A cache left by an earlier workspace of this ID describes other content (docs/chunked-backups.md, "Files cache").
            File.Delete(area.FilesCache(spec.InstanceId));
            session.Write();
        }
        catch (Exception e)
        {
            _sessions.TryRemove(new KeyValuePair<string, Session>(spec.InstanceId, session));
            throw Linux.FilesystemFaults.Explain(e, "working area", area.Root)
                ?? new WsdException(ErrorCode.Internal, $"cannot persist the new session: {e.Message}", e);
        }
        return session;
    }

    public void MarkReady(Session session)
    {
        if (session.State != SessionState.Initializing)
            throw new WsdException(ErrorCode.FailedPrecondition, $"cannot finish workspace init: the workspace is {SessionStates.ToText(session.State)}");
        session.Transition(SessionState.Ready);
    }

    public void MarkFailed(Session session, string reason)
    {
        if (session.State == SessionState.Initializing)
            Persisted(session, session.TransitionEvenIfUnsaved(SessionState.Failed, reason));
    }

    /// <summary>Writes again the sessions whose last write failed (a full or read-only working area); the number still unsaved.</summary>
    public int RepairUnsaved()
    {
        int unsaved = 0;
        foreach (var session in _sessions.Values)
        {
            bool wasUnsaved = session.Unsaved;
            if (session.SaveIfUnsaved() is not null)
                unsaved++;
            else if (wasUnsaved)
                log.LogInformation("the session file of workspace {instanceId} is up to date again", session.Id);
        }
        return unsaved;
    }

    void Persisted(Session session, Exception? problem)
    {
        if (problem is not null)
            log.LogWarning("the state {state} of workspace {instanceId} is not on disk yet ({error}); it is written again at the next chance",
                SessionStates.ToText(session.State), session.Id, problem.Message);
    }

    /// <summary>
    /// Returns once the session is ready; FAILED_PRECONDITION when it failed or is going away
    /// (docs/compatibility.md#waitforinit). The wait ends with the caller's deadline or cancellation.
    /// </summary>
    public async Task WaitForInitAsync(Session session, CancellationToken cancellationToken)
    {
        await session.InitSettled.WaitAsync(cancellationToken);
        if (session.State != SessionState.Ready)
        {
            string why = session.Failure is { } failure ? $": {failure}" : "";
            throw new WsdException(ErrorCode.FailedPrecondition, $"workspace is not initializing or ready{why}");
        }
    }

    /// <summary>
    /// Disposes of the session: the first caller persists "disposing", runs <paramref name="finalize"/>
    /// (final backup, git status), then removes the session file, content and service directory.
    /// Concurrent callers wait for that same outcome. If finalize fails the session stays
    /// "disposing" with its content, and a later call tries again. <paramref name="removed"/> runs
    /// once, after the content is gone (the quota's limits and id go then).
    /// </summary>
    public async Task<GitStatus?> DisposeAsync(Session session, Func<Session, CancellationToken, Task<GitStatus?>> finalize,
        CancellationToken cancellationToken, Action<Session>? removed = null)
    {
        Task<GitStatus?> disposal;
        lock (session.DisposalLock)
        {
            if (session.State == SessionState.Disposed)
                return session.LastGitStatus;
            if (session.Disposal is Task<GitStatus?> running)
            {
                disposal = running;
            }
            else
            {
                disposal = RunDisposal(session, finalize, removed);
                session.Disposal = disposal;
            }
        }
        return await disposal.WaitAsync(cancellationToken);
    }

    async Task<GitStatus?> RunDisposal(Session session, Func<Session, CancellationToken, Task<GitStatus?>> finalize, Action<Session>? removed)
    {
        await Task.Yield(); // run outside the disposal lock
        try
        {
            // "disposing" on disk only keeps a restart from offering snapshots of it; a full working
            // area must not keep a workspace from going, so the dispose goes on if it cannot be written.
            if (session.State != SessionState.Disposing)
                Persisted(session, session.TransitionEvenIfUnsaved(SessionState.Disposing));
            // Finalization is not cut short by one caller going away: others may wait on it.
            var gitStatus = await finalize(session, CancellationToken.None);
            if (gitStatus is not null)
                Persisted(session, session.TransitionEvenIfUnsaved(SessionState.Disposing, gitStatus: gitStatus));

            // The session file goes first: once it is gone, a restart cannot resurrect the
            // workspace, and housekeeping removes whatever content a crash here leaves behind.
            session.BeginRemoval();
            try
            {
                File.Delete(area.SessionFile(session.Id));
                Linux.Durability.SyncDirectory(area.Root);
            }
            catch (Exception e)
            {
                session.BeginRemoval(false);
                throw Linux.FilesystemFaults.Explain(e, "working area", area.Root) ?? e;
            }
            session.Disposed();
            _sessions.TryRemove(new KeyValuePair<string, Session>(session.Id, session));
            RemoveTree(session.ContentLocation);
            RemoveServiceDirectory(session.ServiceDirectory);
            File.Delete(area.FilesCache(session.Id));
            removed?.Invoke(session);
            return gitStatus;
        }
        catch
        {
            lock (session.DisposalLock)
                session.Disposal = null; // a failed dispose can be retried (docs/compatibility.md#disposals-stuck-in-disposing)
            throw;
        }
    }

    /// <summary>
    /// Loads the sessions a previous daemon process left (docs/decisions.md#sessions-and-restarts): ready
    /// and disposing ones come back as they were; one that was initializing lost its initializer with
    /// that process, so it is marked failed and its partial content removed. A session file that cannot
    /// be read is moved aside with its content kept (docs/faults.md): it is never taken for a good
    /// session, and never silently dropped, which would let housekeeping delete the content as an orphan.
    /// </summary>
    public IReadOnlyList<Session> Recover()
    {
        area.Create();
        var recovered = new List<Session>();
        foreach (var path in Directory.EnumerateFiles(area.Root, "*" + WorkingArea.SessionFileSuffix))
        {
            string id = Path.GetFileName(path)[..^WorkingArea.SessionFileSuffix.Length];
            SessionFile? file = null;
            string? problem = null;
            try
            {
                file = JsonSerializer.Deserialize(File.ReadAllBytes(path), SessionJsonContext.Default.SessionFile);
            }
            catch (JsonException e)
            {
                problem = $"it is not a session ({e.Message})";
            }
            catch (IOException e)
            {
                log.LogError("session file {path} cannot be read and is left in place; workspace {instanceId} is not served: {error}", path, id, e.Message);
                continue;
            }
            var state = SessionState.Failed;
            if (problem is null && (file is null || file.InstanceId != id || !SessionStates.TryParse(file.State, out state) || !InstanceId.IsValid(id)))
                problem = $"it does not describe workspace {id} in a known state";
            if (problem is not null)
            {
                MoveAside(path, id, problem);
                continue;
            }
            file!.Location = area.ContentDir(id); // never trust a path read back from disk
            file.ServiceLocDaemon = area.ServiceDir(id);
            var session = new Session(file, path, state);
            if (state == SessionState.Initializing)
            {
                try
                {
                    RemoveTree(session.ContentLocation);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    log.LogWarning("the partial content of {instanceId} cannot be removed yet: {error}", id, e.Message);
                }
                Persisted(session, session.TransitionEvenIfUnsaved(SessionState.Failed, "its initialization was interrupted by a daemon restart"));
            }
            if (_sessions.TryAdd(id, session))
                recovered.Add(session);
            log.LogInformation("recovered workspace {instanceId} in state {state}", id, SessionStates.ToText(session.State));
        }
        return recovered;
    }

    /// <summary>Where a corrupt session file of <paramref name="id"/> was moved, if one was.</summary>
    public string? CorruptSessionFile(string id)
    {
        string aside = area.SessionFile(id) + WorkingArea.CorruptSuffix;
        return File.Exists(aside) ? aside : null;
    }

    void MoveAside(string path, string id, string problem)
    {
        string aside = path + WorkingArea.CorruptSuffix;
        try
        {
            File.Move(path, aside, overwrite: false);
            Linux.Durability.SyncDirectory(area.Root);
            log.LogError("session file {path} is corrupt: {problem}. It was moved to {aside}; workspace {instanceId} is not served and its content " +
                "{content} is kept. Inspect both, then remove them to let the ID be used again", path, problem, aside, id, area.ContentDir(id));
        }
        catch (IOException e)
        {
            log.LogError("session file {path} is corrupt: {problem}, and cannot be moved aside ({error}); workspace {instanceId} is not served and " +
                "its content is kept", path, problem, e.Message, id);
        }
    }

    /// <summary>
    /// Removes directories in the working area that belong to no session and are older than
    /// <paramref name="minimumAge"/> (docs/compatibility.md#restart-and-housekeeping), and leftover
    /// temporaries of atomic writes.
    /// </summary>
    public int RemoveOrphans(TimeSpan minimumAge)
    {
        var cutoff = clock.GetUtcNow().UtcDateTime - minimumAge;
        int removed = 0;
        foreach (var entry in new DirectoryInfo(area.Root).EnumerateFileSystemInfos())
        {
            if (entry.LastWriteTimeUtc > cutoff)
                continue;
            if (entry is FileInfo file)
            {
                bool temporary = file.Name.StartsWith('.') && file.Name.Contains(".tmp-", StringComparison.Ordinal);
                // A files cache outlives its workspace only when a dispose was cut short: it is a hint, never content.
                bool strayCache = file.Name.EndsWith(WorkingArea.FilesCacheSuffix, StringComparison.Ordinal)
                    && file.Name[..^WorkingArea.FilesCacheSuffix.Length] is var owner && !_sessions.ContainsKey(owner) && !File.Exists(area.SessionFile(owner));
                if (temporary || strayCache)
                {
                    file.Delete();
                    removed++;
                }
                continue;
            }
            string id = entry.Name.EndsWith(WorkingArea.ServiceDirSuffix, StringComparison.Ordinal)
                ? entry.Name[..^WorkingArea.ServiceDirSuffix.Length]
                : entry.Name;
            // A corrupt session file moved aside keeps its content too: only an operator decides it is lost.
            if (_sessions.ContainsKey(id) || File.Exists(area.SessionFile(id)) || CorruptSessionFile(id) is not null)
                continue;
            log.LogInformation("removing {directory}: it belongs to no workspace and is older than {age}", entry.FullName, minimumAge);
            if (entry.Name.EndsWith(WorkingArea.ServiceDirSuffix, StringComparison.Ordinal))
                RemoveServiceDirectory(entry.FullName);
            else
                RemoveTree(entry.FullName);
            removed++;
        }
        return removed;
    }

    // The mark is the workspace's root file system mounted there: it is detached first, or the
    // recursive delete would go through it into the container's files.
    static void RemoveServiceDirectory(string path)
    {
        if (InWorkspace.MarkMount.Unmount(path, detach: true) is { } problem)
            throw new IOException($"{problem}; the service directory is left in place");
        RemoveTree(path);
    }

    // The user may still be changing the content while it goes: deleted through descriptors,
    // never by path, so a directory swapped for a symlink is not followed out of the tree.
    static void RemoveTree(string path) => Linux.TreeRemoval.Remove(path);
}
