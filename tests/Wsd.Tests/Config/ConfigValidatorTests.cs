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

    [Fact]
    public void UnknownLogLevelListsTheValidOnes()
    {
        var problem = Assert.Single(Problems(c => c.Log.Level = "verbose"));

        Assert.Contains("debug, info", problem);
    }

    [Fact]
    public void UnknownStorageKindIsRefused()
    {
        var problem = Assert.Single(Problems(c => c.Content.Storage.Kind = "gcloud"));

        Assert.StartsWith("content.storage.kind:", problem);
    }

    [Fact]
    public void BackupConcurrencyMustBePositive() =>
        Assert.StartsWith("content.backup.maxConcurrent", Assert.Single(Problems(c => c.Content.Backup.MaxConcurrent = 0)));

    [Fact]
    public void NonPositiveGracePeriodIsRefused() =>
        Assert.Single(Problems(c => c.Service.ShutdownGracePeriod = TimeSpan.Zero));
}
