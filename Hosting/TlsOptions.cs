using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Wsd.Config;

namespace Wsd.Hosting;

/// <summary>
/// TLS for the content API: TLS 1.2 and 1.3, and when a CA is configured a client certificate
/// signed by it is required. Upstream loaded the CA but never asked for a certificate
/// (docs/compatibility.md#client-certificates-not-required); wsd refuses a client without one.
/// </summary>
static class TlsOptions
{
    /// <summary>
    /// Loads the certificate, key and CA now, while the daemon is built: a file that cannot be
    /// read or parsed is a <see cref="ConfigException"/> naming it before anything has started.
    /// </summary>
    public static HttpsConnectionAdapterOptions Create(TlsConfig tls)
    {
        try
        {
            return Load(tls);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"service.tls: cannot load certificate '{tls.CertPath}' with key '{tls.KeyPath}'" +
                (tls.CaPath.Length > 0 ? $" and CA '{tls.CaPath}'" : "") + $": {e.Message}");
        }
    }

    static HttpsConnectionAdapterOptions Load(TlsConfig tls)
    {
        var options = new HttpsConnectionAdapterOptions
        {
            ServerCertificate = X509Certificate2.CreateFromPemFile(tls.CertPath, tls.KeyPath),
            SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            ClientCertificateMode = ClientCertificateMode.NoCertificate,
        };
        if (tls.CaPath.Length == 0)
            return options;

        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(tls.CaPath);
        if (authorities.Count == 0)
            throw new ConfigException($"service.tls.caPath: '{tls.CaPath}' holds no PEM certificate");

        options.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
        options.ClientCertificateValidation = (certificate, _, _) =>
            CertificateTrust.IsIssuedBy(certificate, authorities, CertificateTrust.ClientAuthentication);
        return options;
    }
}
