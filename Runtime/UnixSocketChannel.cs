using System.Net.Sockets;
using Grpc.Net.Client;

namespace Wsd.Runtime;

/// <summary>
/// A gRPC channel over a unix socket (HTTP/2 cleartext): how wsd reaches containerd, and how
/// workspacekit (and <c>wsd iws</c>) reach a workspace's daemon.sock.
/// </summary>
public static class UnixSocketChannel
{
    public static GrpcChannel Create(string socketPath)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = handler });
    }
}
