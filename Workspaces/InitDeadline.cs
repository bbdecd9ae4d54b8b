namespace Wsd.Workspaces;

/// <summary>
/// How long one InitWorkspace may run in all (<c>content.initTimeout</c>), so that no wait on an
/// init is unbounded, whatever its initializer waits on (docs/faults.md).
/// </summary>
public sealed record InitDeadline(TimeSpan Timeout, TimeProvider Clock)
{
    /// <summary>A token that is cancelled when an init started now runs out of time.</summary>
    public CancellationTokenSource Start() => new(Timeout, Clock);
}
