using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace Wsd.Hosting;

/// <summary>
/// The content and health listeners' sockets, bound while the daemon is being built, before any
/// of its services starts: an address in use is then one error naming its key, not a failed
/// Kestrel start in the middle of the host's, with services already running that the failure
/// tears down again. Kestrel's socket transport takes each over through
/// <see cref="SocketTransportOptions.CreateBoundListenSocket"/> and listens on it.
/// </summary>
public sealed class PreboundSockets : IDisposable
{
    readonly Dictionary<IPEndPoint, Socket> _sockets = [];
    readonly Lock _lock = new();

    /// <summary>Binds <paramref name="endPoint"/> as Kestrel would; an <see cref="IOException"/> names <paramref name="key"/> if it cannot.</summary>
    public void Bind(string key, IPEndPoint endPoint)
    {
        try
        {
            var socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endPoint);
            lock (_lock)
                _sockets.Add(endPoint, socket);
        }
        catch (SocketException e)
        {
            throw new IOException($"{key} {endPoint}: {e.Message}", e);
        }
    }

    /// <summary>The socket bound for <paramref name="endPoint"/>, handed over once; any other endpoint is bound now.</summary>
    public Socket Take(EndPoint endPoint)
    {
        lock (_lock)
        {
            if (endPoint is IPEndPoint ip && _sockets.Remove(ip, out var socket))
                return socket;
        }
        return SocketTransportOptions.CreateDefaultBoundListenSocket(endPoint);
    }

    /// <summary>Closes the sockets Kestrel never took (the daemon stopped before it started).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var socket in _sockets.Values)
                socket.Dispose();
            _sockets.Clear();
        }
    }
}
