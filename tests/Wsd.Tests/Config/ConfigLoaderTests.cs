using System.Text;
using Wsd.Config;

namespace Wsd.Tests.Config;

public class ConfigLoaderTests
{
    static WsdConfig Parse(string json) => ConfigLoader.Parse(Encoding.UTF8.GetBytes(json), "test.json");

    static string ErrorOf(string json) => Assert.Throws<ConfigException>(() => Parse(json)).Message;

    [Fact]
    public void EmbeddedDefaultServesLocallyWithLocalStorage()
    {
        var config = ConfigLoader.Load(null);

        Assert.Equal("127.0.0.1:8080", config.Service.Address);
        Assert.Null(config.Service.Tls);
        Assert.Equal("127.0.0.1:9500", config.Health.Address);
        Assert.Equal(Path.GetFullPath("./.wsd/workspaces"), config.Content.WorkingArea);
        Assert.Equal("local", config.Content.Storage.Kind);
        Assert.Equal(Path.GetFullPath("./.wsd/storage"), config.Content.Storage.Local.Root);
        Assert.Equal("info", config.Log.Level);
    }

    [Fact]
    public void AnEmptyObjectIsTheDefault()
    {
        var config = Parse("{}");

        Assert.Equal(new WsdConfig().Service.Address, config.Service.Address);
        Assert.Equal(TimeSpan.FromSeconds(15), config.Service.ShutdownGracePeriod);
    }

    [Fact]
    public void KeysAreCamelCaseAndOverrideDefaults()
    {
        var config = Parse("""
            {
              "service": { "address": "0.0.0.0:7000", "shutdownGracePeriod": "1m30s" },
              "log": { "level": "debug" },
              // comments are allowed, as are trailing commas
              "content": { "workingArea": "/var/lib/wsd", },
            }
            """);

        Assert.Equal("0.0.0.0:7000", config.Service.Address);
        Assert.Equal(TimeSpan.FromSeconds(90), config.Service.ShutdownGracePeriod);
        Assert.Equal("debug", config.Log.Level);
        Assert.Equal("/var/lib/wsd", config.Content.WorkingArea);
        Assert.Equal("127.0.0.1:9500", config.Health.Address);
    }

    [Fact]
    public void UnknownTopLevelKeyIsNamed()
    {
        Assert.Contains("unknown key 'daemonn'", ErrorOf("""{ "daemonn": {} }"""));
    }

    [Fact]
    public void UnknownNestedKeyIsNamedWithItsPathAndLine()
    {
        string error = ErrorOf("""
            {
              "service": {
                "adress": "127.0.0.1:1"
              }
            }
            """);

        Assert.Contains("unknown key 'service.adress'", error);
        Assert.Contains("line 3", error);
        Assert.StartsWith("test.json:", error);
    }

    [Fact]
    public void PascalCaseKeysAreUnknown()
    {
        Assert.Contains("unknown key 'Service'", ErrorOf("""{ "Service": {} }"""));
    }

    [Fact]
    public void WrongTypeNamesTheKey()
    {
        string error = ErrorOf("""{ "service": { "maxReceiveMessageBytes": "lots" } }""");

        Assert.Contains("service.maxReceiveMessageBytes", error);
    }

    [Fact]
    public void BadDurationSaysWhatIsExpected()
    {
        string error = ErrorOf("""{ "service": { "shutdownGracePeriod": "soon" } }""");

        Assert.Contains("service.shutdownGracePeriod", error);
        Assert.Contains("duration", error);
    }

    [Fact]
    public void MalformedJsonIsAnErrorWithALine()
    {
        Assert.Contains("line 3", ErrorOf("{\n  \"service\": \n}"));
    }

    [Fact]
    public void NullDocumentIsRefused()
    {
        Assert.Contains("JSON object", ErrorOf("null"));
    }

    [Fact]
    public void DefaultJsonRoundTripsAndHidesNothing()
    {
        string json = ConfigLoader.DefaultJson();
        var config = Parse(json);

        Assert.Contains("\"workingArea\": \"./.wsd/workspaces\"", json);
        Assert.Contains("\"shutdownGracePeriod\": \"15s\"", json);
        Assert.Equal("./.wsd/storage", config.Content.Storage.Local.Root);
    }

    [Fact]
    public void MissingFileIsAClearError()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load("/nonexistent/wsd.json"));

        Assert.Contains("/nonexistent/wsd.json: cannot read", e.Message);
    }
}
