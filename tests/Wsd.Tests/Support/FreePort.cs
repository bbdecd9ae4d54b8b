using System.Net;
using System.Net.Sockets;

namespace Wsd.Tests.Support;

public static class FreePort
{
    static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A loopback port nobody listens on right now, and never one this test run handed out before:
    /// the kernel may give a just-closed ephemeral port again at once, which made a daemon's service
    /// and health ports collide.
    /// </summary>
    public static int Next()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (HandedOut)
            {
                if (HandedOut.Add(port))
                    return port;
            }
        }
    }
}
