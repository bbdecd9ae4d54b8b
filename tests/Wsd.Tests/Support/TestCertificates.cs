using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Wsd.Tests.Support;

/// <summary>A throwaway PKI made in the test: a CA, a server and a client certificate signed by it.</summary>
public sealed class TestCertificates
{
    public required X509Certificate2 Authority { get; init; }
    public required X509Certificate2 Server { get; init; }
    public required X509Certificate2 Client { get; init; }

    public static TestCertificates Create(string name)
    {
        var authority = CreateAuthority($"{name} CA");
        var server = Issue(authority, "wsdaemon", serverAuth: true, san =>
        {
            san.AddDnsName("wsdaemon"); // the name upstream clients verify (docs/compatibility.md#tls)
            san.AddDnsName("localhost");
            san.AddIpAddress(IPAddress.Loopback);
        });
        var client = Issue(authority, $"{name}-client", serverAuth: false, _ => { });
        return new TestCertificates { Authority = authority, Server = server, Client = client };
    }

    /// <summary>Writes ca.crt, tls.crt and tls.key as PEM into <paramref name="directory"/>.</summary>
    public (string Ca, string Cert, string Key) WriteServerPem(string directory)
    {
        string ca = Path.Combine(directory, "ca.crt");
        string cert = Path.Combine(directory, "tls.crt");
        string key = Path.Combine(directory, "tls.key");
        File.WriteAllText(ca, Authority.ExportCertificatePem());
        File.WriteAllText(cert, Server.ExportCertificatePem());
        File.WriteAllText(key, Server.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return (ca, cert, key);
    }

    static X509Certificate2 CreateAuthority(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        using var cert = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        return Reload(cert);
    }

    static X509Certificate2 Issue(X509Certificate2 authority, string subject, bool serverAuth, Action<SubjectAlternativeNameBuilder> names)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        var san = new SubjectAlternativeNameBuilder();
        names(san);
        if (serverAuth)
            request.CertificateExtensions.Add(san.Build());
        var now = DateTimeOffset.UtcNow;
        var serial = RandomNumberGenerator.GetBytes(16);
        using var issued = request.Create(authority, now.AddMinutes(-5), now.AddHours(12), serial);
        using var withKey = issued.CopyWithPrivateKey(key);
        return Reload(withKey);
    }

    // SslStream on Linux wants a certificate whose key is not ephemeral: round-trip through PKCS#12.
    static X509Certificate2 Reload(X509Certificate2 certificate) =>
        X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
}
