namespace Wsd.Workspaces;

/// <summary>
/// Connection feature naming the workspace whose socket a connection came in on. Its presence is
/// what marks a call as in-workspace: the socket, not anything the caller sends, decides the
/// workspace. The listener (<see cref="IWorkspaceSocketServer"/>'s implementation) sets it; the
/// services read it.
/// </summary>
public sealed record WorkspaceConnection(string InstanceId, string SocketPath);
