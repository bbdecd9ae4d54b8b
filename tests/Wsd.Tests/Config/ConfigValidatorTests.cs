using Wsd.Config;

namespace Wsd.Tests.Config;

public class ConfigValidatorTests
{
    static List<string> Problems(Action<WsdConfig> change)
    {
        var config = new WsdConfig();
        change(config);
        return ConfigValidator.Validate(config);
    }

    [Fact]
    public void TheDefaultIsValid() => Assert.Empty(Problems(_ => { }));

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:70000")]
    [InlineData("example.com:80")]
    [InlineData("[::1:80")]
    public void BadServiceAddressIsNamed(string address)
    {
        var problem = Assert.Single(Problems(c => c.Service.Address = address));

        Assert.StartsWith("service.address:", problem);
    }

    [Theory]
    [InlineData(":8080")]
    [InlineData("0.0.0.0:8080")]
    [InlineData("[::]:8080")]
    [InlineData("[::1]:8080")]
    [InlineData("localhost:8080")]
    public void UsualAddressFormsAreAccepted(string address) =>
        Assert.Empty(Problems(c => c.Service.Address = address));

    [Fact]
    public void HealthMustNotShareTheServicePort()
    {
        var problem = Assert.Single(Problems(c => c.Health.Address = "127.0.0.1:8080"));

        Assert.Contains("another port", problem);
    }

    [Fact]
    public void TlsNeedsCertificateAndKeyThatExist()
    {
        var problems = Problems(c => c.Service.Tls = new TlsConfig { CertPath = "/nonexistent/tls.crt" });

        Assert.Contains(problems, p => p.StartsWith("service.tls: certPath and keyPath"));
        Assert.Contains(problems, p => p.StartsWith("service.tls.certPath: file '/nonexistent/tls.crt' does not exist"));
    }

    static void S3(WsdConfig config, string endpoint, string caFile)
    {
        config.Content.Storage.Kind = StorageKind.S3;
        config.Content.Storage.S3 = new S3StorageConfig { Endpoint = endpoint, Bucket = "b", AccessKey = "a", SecretKey = "s", CaFile = caFile };
    }

    [Fact]
    public void AnS3CaFileMustExistHoldCertificatesAndGoWithHttps()
    {
        using var dir = new Wsd.Tests.Support.TempDirectory();
        string notPem = dir.Combine("ca.txt");
        File.WriteAllText(notPem, "not a certificate\n");
        string pem = dir.Combine("ca.pem");
        using (var key = System.Security.Cryptography.ECDsa.Create())
        {
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=test CA", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
            using var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
            File.WriteAllText(pem, ca.ExportCertificatePem());
        }

        Assert.Equal([$"content.storage.s3.caFile: file '{dir.Combine("none.pem")}' does not exist"],
            Problems(c => S3(c, "https://s3.example:443", dir.Combine("none.pem"))));
        Assert.Equal([$"content.storage.s3.caFile: '{notPem}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)"],
            Problems(c => S3(c, "https://s3.example:443", notPem)));
        Assert.Equal(["content.storage.s3.caFile: only trusted for an https endpoint, and 'http://s3.example:80' is not one"],
            Problems(c => S3(c, "http://s3.example:80", pem)));
        Assert.Empty(Problems(c => S3(c, "https://s3.example:443", pem)));
    }

    [Fact]
    public void UnknownLogLevelListsTheValidOnes()
    {
        var problem = Assert.Single(Problems(c => c.Log.Level = "verbose"));

        Assert.Contains("debug, info", problem);
    }

    [Fact]
    public void BackupConcurrencyMustBePositive() =>
        Assert.StartsWith("content.backup.maxConcurrent", Assert.Single(Problems(c => c.Content.Backup.MaxConcurrent = 0)));

    [Fact]
    public void NonPositiveGracePeriodIsRefused() =>
        Assert.Single(Problems(c => c.Service.ShutdownGracePeriod = TimeSpan.Zero));

    [Theory]
    [InlineData("10.0.5.0/31", "is not big enough")]
    [InlineData("10.0.5.0/32", "is not big enough")]
    [InlineData("10.0.5.1/30", "is not big enough")] // base+2 would be the broadcast address
    [InlineData("10.0.5.0", "is not an IPv4 CIDR")]
    [InlineData("fd00::/64", "is not an IPv4 CIDR")]
    [InlineData("10.0.5.0/33", "is not an IPv4 CIDR")]
    public void AWorkspaceCidrWithoutRoomForTheVethPairIsNamed(string cidr, string why)
    {
        var problem = Assert.Single(Problems(c => c.Runtime.WorkspaceCidr = cidr));

        Assert.StartsWith("runtime.workspaceCidr:", problem);
        Assert.Contains(why, problem);
    }

    [Theory]
    [InlineData("10.0.5.0/30", "10.0.5.1", "10.0.5.2", 30)]
    [InlineData("10.0.5.4/24", "10.0.5.5", "10.0.5.6", 24)] // the address as written is the base, as upstream
    [InlineData("172.16.0.0/12", "172.16.0.1", "172.16.0.2", 12)]
    public void TheVethPairTakesTheTwoAddressesAfterTheOneWritten(string cidr, string veth, string peer, int prefix)
    {
        var parsed = WorkspaceCidr.Parse(cidr);

        Assert.Equal((veth, peer, prefix), (parsed.Veth.ToString(), parsed.Peer.ToString(), parsed.PrefixLength));
    }
}
