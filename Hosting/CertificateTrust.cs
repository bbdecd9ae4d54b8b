using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Wsd.Hosting;

/// <summary>
/// Whether a certificate chains to one of the given authorities, and only those: the system trust
/// store never counts, so a certificate from any public CA cannot pass for one of ours.
/// </summary>
public static class CertificateTrust
{
    public const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    public static bool IsIssuedBy(X509Certificate2 certificate, X509Certificate2Collection authorities, string? requiredUsage = null)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (requiredUsage is not null)
            chain.ChainPolicy.ApplicationPolicy.Add(new Oid(requiredUsage));
        return chain.Build(certificate);
    }
}
