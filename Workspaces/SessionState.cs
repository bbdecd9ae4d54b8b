namespace Wsd.Workspaces;

/// <summary>
/// A workspace session's lifecycle (docs/compatibility.md#session-states), persisted as the session
/// file's "state": initializing → ready → disposing → disposed. <see cref="Failed"/> is wsd's addition:
/// content init failed or died with an earlier daemon process, so waiting for it must not hang
/// (docs/decisions.md#sessions-and-restarts).
/// </summary>
public enum SessionState
{
    Initializing,
    Ready,
    Failed,
    Disposing,
    Disposed,
}

public static class SessionStates
{
    public static string ToText(SessionState state) => state switch
    {
        SessionState.Initializing => "initializing",
        SessionState.Ready => "ready",
        SessionState.Failed => "failed",
        SessionState.Disposing => "disposing",
        _ => "disposed",
    };

    public static bool TryParse(string? text, out SessionState state)
    {
        (bool ok, state) = text switch
        {
            "initializing" => (true, SessionState.Initializing),
            "ready" => (true, SessionState.Ready),
            "failed" => (true, SessionState.Failed),
            "disposing" => (true, SessionState.Disposing),
            "disposed" => (true, SessionState.Disposed),
            _ => (false, SessionState.Failed),
        };
        return ok;
    }
}
