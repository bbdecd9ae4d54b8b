using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Amazon.Runtime;

namespace Wsd.Storage.S3;

/// <summary>
/// The SDK's HTTP clients for an endpoint whose certificate comes from a private CA
/// (<c>content.storage.s3.caFile</c>): a server certificate is accepted when the system trusts it,
/// or when its chain ends at one of the file's certificates. The host name must match either way.
/// </summary>
public sealed class PrivateCaHttpClientFactory : HttpClientFactory
{
    readonly X509Certificate2Collection _roots = new();

    /// <exception cref="InvalidDataException">The file holds no PEM certificate.</exception>
    public PrivateCaHttpClientFactory(string caFile)
    {
        try
        {
            _roots.ImportFromPemFile(caFile);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new InvalidDataException($"{caFile}: not a PEM file of CA certificates ({e.Message})", e);
        }
        if (_roots.Count == 0)
            throw new InvalidDataException($"{caFile}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }

    public override HttpClient CreateHttpClient(IClientConfig clientConfig)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, certificate, chain, errors) => Trusted(certificate, chain, errors) },
        };
        if (clientConfig.MaxConnectionsPerServer is int connections)
            handler.MaxConnectionsPerServer = connections;
        // The SDK bounds each request itself (RequestTimeout); HttpClient's own 100 s default must not cut a long one first.
        return new HttpClient(handler) { Timeout = clientConfig.Timeout ?? Timeout.InfiniteTimeSpan };
    }

    bool Trusted(X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
            return true;
        if (certificate is null || errors != SslPolicyErrors.RemoteCertificateChainErrors)
            return false; // no certificate, or the name does not match: no CA makes that right
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_roots);
        // Intermediates the server sent, so a chain through them can reach the root.
        if (presented is not null)
            foreach (var element in presented.ChainElements)
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        // A private CA rarely publishes revocation lists; the system's CAs are checked as usual above.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }
}
