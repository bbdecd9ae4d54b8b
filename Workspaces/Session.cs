using System.Text.Json;
using Wsd.Interop;

namespace Wsd.Workspaces;

/// <summary>
/// One workspace on this node: its persisted session file and the waits on its lifecycle. Every
/// state change is written to disk (atomically) before it is visible, under this session's own lock,
/// so no store-wide lock is held across I/O (SPEC §3, REF §9.2 item 16).
/// </summary>
public sealed class Session
{
    const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    readonly Lock _persist = new();
    readonly TaskCompletionSource _initSettled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly SessionFile _file;
    readonly string _path;
    volatile SessionState _state;

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
            string oldState = _file.State;
            string? oldFailure = _file.Failure;
            var oldGit = _file.LastGitStatus;
            _file.State = SessionStates.ToText(state);
            _file.Failure = failure ?? (state == SessionState.Failed ? oldFailure : null);
            if (gitStatus is not null)
                _file.LastGitStatus = gitStatus;
            try
            {
                Write();
            }
            catch
            {
                _file.State = oldState;
                _file.Failure = oldFailure;
                _file.LastGitStatus = oldGit;
                throw;
            }
            _state = state;
        }
        if (state != SessionState.Initializing)
            _initSettled.TrySetResult();
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

    internal void Write() =>
        Durability.WriteFileAtomically(_path, JsonSerializer.SerializeToUtf8Bytes(_file, SessionJsonContext.Default.SessionFile), FileMode);

    /// <summary>Marks the end of the session once its file is gone: no more disk writes.</summary>
    internal void Disposed()
    {
        _state = SessionState.Disposed;
        lock (_persist)
            _file.State = SessionStates.ToText(SessionState.Disposed);
        _initSettled.TrySetResult();
    }
}
