namespace Wsd.Hosting.WorkspaceSockets;

/// <summary>
/// Connection feature naming the workspace whose socket a connection came in on. Its presence is
/// what marks a call as in-workspace: the socket, not anything the caller sends, decides the workspace.
/// </summary>
public sealed record WorkspaceConnection(string WorkspaceId, string SocketPath);
