using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Wsd.Hosting.WorkspaceSockets;

namespace Wsd.Hosting;

/// <summary>The daemon's three kinds of listener, all on one Kestrel server.</summary>
static class Listeners
{
    /// <summary><paramref name="tls"/>: the content API's TLS, loaded beforehand (<see cref="TlsOptions"/>); null for plaintext.</summary>
    public static void Configure(KestrelServerOptions kestrel, HttpsConnectionAdapterOptions? tls, IPEndPoint service, IPEndPoint health)
    {
        kestrel.AddServerHeader = false;
        kestrel.Limits.Http2.MaxStreamsPerConnection = 100;

        // Content API: gRPC only, so HTTP/2 only (prior knowledge when plaintext, ALPN h2 with TLS).
        kestrel.Listen(service, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (tls is not null)
                listen.UseHttps(tls);
        });

        // Health and metrics: plain HTTP/1.1 for kubelet probes, Prometheus and curl.
        kestrel.Listen(health, listen => listen.Protocols = HttpProtocols.Http1);

        // Every workspace's daemon.sock, plaintext HTTP/2 as upstream (docs/compatibility.md#transport).
        kestrel.Listen(WorkspaceSocketsEndPoint.Instance, listen => listen.Protocols = HttpProtocols.Http2);
    }
}
