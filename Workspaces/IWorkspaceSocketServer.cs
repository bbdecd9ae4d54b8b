namespace Wsd.Workspaces;

/// <summary>
/// Serves the in-workspace API on one unix socket per workspace
/// (docs/compatibility.md#workspace-sockets). Implemented by the hosting layer; the workspace lifecycle
/// only says when a socket should exist.
/// </summary>
public interface IWorkspaceSocketServer
{
    /// <summary>Starts serving <paramref name="instanceId"/> on <paramref name="socketPath"/>; a no-op when it already is.</summary>
    Task StartAsync(string instanceId, string socketPath, CancellationToken cancellationToken = default);

    /// <summary>Stops serving the workspace: the socket file is removed and open connections are closed.</summary>
    Task StopAsync(string instanceId);

    bool IsServing(string instanceId);
}
