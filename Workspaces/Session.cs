using System.Text.Json;
using Wsd.Content.Git;
using Wsd.Linux;

namespace Wsd.Workspaces;

/// <summary>
/// One workspace on this node: its persisted session file and the waits on its lifecycle. Every
/// state change is written to disk (atomically) before it is visible, under this session's own lock,
/// so no store-wide lock is held across I/O (docs/decisions.md#sessions-and-restarts,
/// docs/compatibility.md#a-store-wide-lock-across-io).
/// </summary>
public sealed class Session
{
    const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    readonly Lock _persist = new();
    readonly TaskCompletionSource _initSettled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly SessionFile _file;
    readonly string _path;
    volatile SessionState _state;
    bool _unsaved; // under _persist
    bool _removing; // under _persist: the file is being deleted, so nothing may write it again

    internal Session(SessionFile file, string path, SessionState state)
    {
        _file = file;
        _path = path;
        _state = state;
        if (state != SessionState.Initializing)
            _initSettled.TrySetResult();
    }

    /// <summary>The instance ID (upstream's "workspaceID" key).</summary>
    public string Id => _file.InstanceId;
    public string Owner => _file.Owner;
    /// <summary>The workspace ID (upstream's "metaID" key).</summary>
    public string MetaId => _file.MetaId;
    public string ContentLocation => _file.Location;
    public string ServiceDirectory => _file.ServiceLocDaemon;
    public string CheckoutLocation => _file.CheckoutLocation;
    public bool RemoteStorageDisabled => _file.RemoteStorageDisabled;
    public long StorageQuota => _file.StorageQuota;
    /// <summary>The XFS project id of its storage quota; 0 for none.</summary>
    public uint ProjectId => (uint)Math.Max(0, _file.XfsProjectId);
    public DateTime CreatedAt => _file.CreatedAt;
    public SessionState State => _state;
    public string? Failure
    {
        get
        {
            lock (_persist)
                return _file.Failure;
        }
    }

    public GitStatus? LastGitStatus
    {
        get
        {
            lock (_persist)
                return _file.LastGitStatus;
        }
    }

    /// <summary>Completes once the session has left <see cref="SessionState.Initializing"/>, whichever way.</summary>
    internal Task InitSettled => _initSettled.Task;

    internal Task? Disposal { get; set; }
    internal Lock DisposalLock { get; } = new();

    /// <summary>Writes the new state to disk, then makes it visible; a failed write leaves the old state.</summary>
    internal void Transition(SessionState state, string? failure = null, GitStatus? gitStatus = null)
    {
        lock (_persist)
        {
            var old = (_file.State, _file.Failure, _file.LastGitStatus);
            Change(state, failure, gitStatus);
            try
            {
                Write();
            }
            catch
            {
                (_file.State, _file.Failure, _file.LastGitStatus) = old;
                throw;
            }
            _state = state;
        }
        if (state != SessionState.Initializing)
            _initSettled.TrySetResult();
    }

    /// <summary>
    /// Makes the new state visible whether or not it reaches the disk, so no waiter hangs on a full or
    /// read-only working area (docs/faults.md). A failed write is returned and remembered: the next
    /// write of this session, <see cref="SaveIfUnsaved"/> (housekeeping) or the next start repairs the file.
    /// </summary>
    internal Exception? TransitionEvenIfUnsaved(SessionState state, string? failure = null, GitStatus? gitStatus = null)
    {
        Exception? problem;
        lock (_persist)
        {
            Change(state, failure, gitStatus);
            _state = state;
            problem = TryWrite();
        }
        if (state != SessionState.Initializing)
            _initSettled.TrySetResult();
        return problem;
    }

    /// <summary>Whether the file on disk lags behind this session after a failed write.</summary>
    public bool Unsaved
    {
        get
        {
            lock (_persist)
                return _unsaved;
        }
    }

    /// <summary>Writes the session again if an earlier write failed; null when it is saved now.</summary>
    internal Exception? SaveIfUnsaved()
    {
        lock (_persist)
            return _unsaved && _state != SessionState.Disposed ? TryWrite() : null;
    }

    void Change(SessionState state, string? failure, GitStatus? gitStatus)
    {
        _file.State = SessionStates.ToText(state);
        _file.Failure = failure ?? (state == SessionState.Failed ? _file.Failure : null);
        if (gitStatus is not null)
            _file.LastGitStatus = gitStatus;
    }

    Exception? TryWrite()
    {
        try
        {
            Write();
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _unsaved = true;
            return e;
        }
    }

    /// <summary>Persists the project id the workspace's quota uses.</summary>
    internal void SetProjectId(uint id)
    {
        lock (_persist)
        {
            int old = _file.XfsProjectId;
            _file.XfsProjectId = (int)id;
            try
            {
                Write();
            }
            catch
            {
                _file.XfsProjectId = old;
                throw;
            }
        }
    }

    internal void Write()
    {
        if (_removing)
            return;
        Durability.WriteFileAtomically(_path, JsonSerializer.SerializeToUtf8Bytes(_file, SessionJsonContext.Default.SessionFile), FileMode);
        _unsaved = false;
    }

    /// <summary>Stops every write of the file before it is deleted, so a repair cannot bring it back; undone if the delete fails.</summary>
    internal void BeginRemoval(bool removing = true)
    {
        lock (_persist)
            _removing = removing;
    }

    /// <summary>Marks the end of the session once its file is gone: no more disk writes.</summary>
    internal void Disposed()
    {
        _state = SessionState.Disposed;
        lock (_persist)
            _file.State = SessionStates.ToText(SessionState.Disposed);
        _initSettled.TrySetResult();
    }
}
