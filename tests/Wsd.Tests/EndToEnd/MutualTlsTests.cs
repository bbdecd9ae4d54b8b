using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Wsd.Api.WsDaemon;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>
/// TLS on the content API with a client CA: a certificate signed by it is required
/// (docs/decisions.md#process-and-configuration; upstream never asked for one,
/// docs/compatibility.md#client-certificates-not-required).
/// </summary>
public class MutualTlsTests
{
    static GrpcChannel TlsChannel(int port, X509Certificate2 trustedAuthority, X509Certificate2? clientCertificate)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                TargetHost = "wsdaemon",
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(trustedAuthority);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return certificate is X509Certificate2 c && chain.Build(c);
                },
                ClientCertificates = clientCertificate is null ? null : new X509CertificateCollection { clientCertificate },
            },
        };
        return GrpcChannel.ForAddress($"https://127.0.0.1:{port}", new GrpcChannelOptions { HttpHandler = handler });
    }

    static async Task<DaemonProcess> StartWithTls(TempDirectory dir, TestCertificates pki, bool requireClients)
    {
        var (ca, cert, key) = pki.WriteServerPem(dir.Path);
        return await DaemonProcess.StartAsync(dir, config =>
        {
            var tls = new System.Text.Json.Nodes.JsonObject { ["certPath"] = cert, ["keyPath"] = key };
            if (requireClients)
                tls["caPath"] = ca;
            config["service"]!["tls"] = tls;
        });
    }

    static Task<IsWorkspaceExistsResponse> Call(GrpcChannel channel) =>
        new WorkspaceContentService.WorkspaceContentServiceClient(channel)
            .IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "tls-check" }, deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync;

    [Fact]
    public async Task AClientCertificateSignedByTheCaIsServed()
    {
        using var dir = new TempDirectory();
        var pki = TestCertificates.Create("wsd");
        await using var daemon = await StartWithTls(dir, pki, requireClients: true);
        using var channel = TlsChannel(daemon.ServicePort, pki.Authority, pki.Client);

        var reply = await Call(channel);

        Assert.False(reply.Exists);
    }

    [Fact]
    public async Task AClientWithoutACertificateIsRefused()
    {
        using var dir = new TempDirectory();
        var pki = TestCertificates.Create("wsd");
        await using var daemon = await StartWithTls(dir, pki, requireClients: true);
        using var channel = TlsChannel(daemon.ServicePort, pki.Authority, clientCertificate: null);

        var e = await Assert.ThrowsAsync<RpcException>(() => Call(channel));

        Assert.NotEqual(StatusCode.OK, e.StatusCode);
    }

    [Fact]
    public async Task AClientCertificateFromAnotherCaIsRefused()
    {
        using var dir = new TempDirectory();
        var pki = TestCertificates.Create("wsd");
        var rogue = TestCertificates.Create("rogue");
        await using var daemon = await StartWithTls(dir, pki, requireClients: true);
        using var channel = TlsChannel(daemon.ServicePort, pki.Authority, rogue.Client);

        var e = await Assert.ThrowsAsync<RpcException>(() => Call(channel));

        Assert.NotEqual(StatusCode.OK, e.StatusCode);
    }

    [Fact]
    public async Task WithoutACaTlsServesClientsWithoutCertificates()
    {
        using var dir = new TempDirectory();
        var pki = TestCertificates.Create("wsd");
        await using var daemon = await StartWithTls(dir, pki, requireClients: false);
        using var channel = TlsChannel(daemon.ServicePort, pki.Authority, clientCertificate: null);

        var reply = await Call(channel);

        Assert.False(reply.Exists);
    }

    [Fact]
    public async Task PlaintextClientsAreRefusedByATlsListener()
    {
        using var dir = new TempDirectory();
        var pki = TestCertificates.Create("wsd");
        await using var daemon = await StartWithTls(dir, pki, requireClients: true);
        using var channel = daemon.Channel();

        var e = await Assert.ThrowsAsync<RpcException>(() => Call(channel));

        Assert.NotEqual(StatusCode.OK, e.StatusCode);
    }
}
