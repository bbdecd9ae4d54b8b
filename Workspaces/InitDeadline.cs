namespace Wsd.Workspaces;

/// <summary>
/// How long one InitWorkspace may run in all (<c>content.initTimeout</c>), so that no wait on an
/// init is unbounded, whatever its initializer waits on (docs/faults.md).
/// </summary>
public sealed record InitDeadline(TimeSpan Timeout);
