using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;

namespace Wsd.Hosting.WorkspaceSockets;

/// <summary>Kestrel's view of the hub: connections accepted on any workspace socket.</summary>
sealed class WorkspaceSocketListener(ChannelReader<ConnectionContext> accepted, Action unbind) : IConnectionListener
{
    public EndPoint EndPoint => WorkspaceSocketsEndPoint.Instance;

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await accepted.ReadAsync(cancellationToken);
        }
        catch (ChannelClosedException)
        {
            return null; // unbound: Kestrel stops its accept loop on null
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        unbind();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        unbind();
        return ValueTask.CompletedTask;
    }
}
