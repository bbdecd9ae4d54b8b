using System.Net;

namespace Wsd.Hosting.WorkspaceSockets;

/// <summary>
/// The one Kestrel endpoint behind which all workspace sockets sit. Kestrel cannot add listeners
/// while running, so the hub accepts on each socket itself and hands the connections to Kestrel
/// through this endpoint: one server, one pipeline, any number of sockets.
/// </summary>
public sealed class WorkspaceSocketsEndPoint : EndPoint
{
    public static readonly WorkspaceSocketsEndPoint Instance = new();

    WorkspaceSocketsEndPoint()
    {
    }

    public override string ToString() => "workspace-sockets";
}
