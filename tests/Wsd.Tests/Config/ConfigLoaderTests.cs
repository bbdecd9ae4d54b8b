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
        Assert.Equal(StorageKind.Local, config.Content.Storage.Kind);
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

    [Theory]
    [InlineData("""{ "content": { "storage": { "kind": "local" } } }""", StorageKind.Local)]
    [InlineData("""{ "content": { "storage": { "kind": "s3" } } }""", StorageKind.S3)]
    public void EveryStorageKindIsReadByItsName(string json, StorageKind kind) =>
        Assert.Equal(kind, Parse(json).Content.Storage.Kind);

    [Theory]
    [InlineData("process", RuntimeKind.Process)]
    [InlineData("containerd", RuntimeKind.Containerd)]
    public void EveryRuntimeKindIsReadByItsName(string name, RuntimeKind kind) =>
        Assert.Equal(kind, Parse($$"""{ "runtime": { "kind": "{{name}}" } }""").Runtime.Kind);

    [Theory]
    [InlineData("auto", FsShiftMode.Auto)]
    [InlineData("idmapped", FsShiftMode.Idmapped)]
    [InlineData("shiftfs", FsShiftMode.Shiftfs)]
    public void EveryFsShiftModeIsReadByItsName(string name, FsShiftMode mode) =>
        Assert.Equal(mode, Parse($$"""{ "runtime": { "fsShift": "{{name}}" } }""").Runtime.FsShift);

    [Fact]
    public void TheFsShiftDefaultIsAuto() => Assert.Equal(FsShiftMode.Auto, new WsdConfig().Runtime.FsShift);

    [Theory]
    [InlineData("""{ "content": { "storage": { "kind": "gcloud" } } }""", "content.storage.kind", "'gcloud' is not one of local, s3")]
    [InlineData("""{ "content": { "storage": { "kind": "S3" } } }""", "content.storage.kind", "'S3' is not one of local, s3")]
    [InlineData("""{ "runtime": { "kind": "docker" } }""", "runtime.kind", "'docker' is not one of process, containerd")]
    [InlineData("""{ "runtime": { "fsShift": "" } }""", "runtime.fsShift", "'' is not one of auto, idmapped, shiftfs")]
    [InlineData("""{ "runtime": { "fsShift": "Auto" } }""", "runtime.fsShift", "'Auto' is not one of auto, idmapped, shiftfs")]
    [InlineData("""{ "runtime": { "fsShift": "idmap" } }""", "runtime.fsShift", "'idmap' is not one of auto, idmapped, shiftfs")]
    [InlineData("""{ "runtime": { "fsShift": 1 } }""", "runtime.fsShift", "'number' is not one of auto, idmapped, shiftfs")]
    public void AnUnknownKindOrModeIsNamedWithItsKeyAndTheChoices(string json, string key, string why)
    {
        string error = ErrorOf(json);

        Assert.StartsWith($"test.json: invalid value at '{key}'", error);
        Assert.EndsWith(why, error);
    }

    [Fact]
    public void TheDefaultConfigurationWritesKindsAndModesByName()
    {
        string json = ConfigLoader.DefaultJson();

        Assert.Contains("\"kind\":\"local\"", json.Replace(" ", ""));
        Assert.Contains("\"kind\":\"process\"", json.Replace(" ", ""));
        Assert.Contains("\"fsShift\":\"auto\"", json.Replace(" ", ""));
        Assert.Equal(StorageKind.Local, Parse(json).Content.Storage.Kind);
    }
}
