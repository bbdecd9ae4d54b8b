using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

public class CommandLineTests
{
    [Fact]
    public async Task ConfigValidateAcceptsAGoodFile()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.Combine("ok.json"), """{ "service": { "address": "127.0.0.1:7000" } }""");

        var result = Tools.Run(RepositoryPaths.DaemonBinary, dir.Path, "config", "validate", "ok.json");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("ok.json: ok", result.Stdout);
    }

    [Fact]
    public async Task ConfigValidateNamesAnUnknownKeyAndFails()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.Combine("bad.json"), """{ "content": { "workingAre": "/x" } }""");

        var result = Tools.Run(RepositoryPaths.DaemonBinary, dir.Path, "config", "validate", "bad.json");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("unknown key 'content.workingAre'", result.Stderr);
    }

    [Fact]
    public async Task RunRefusesABadConfigBeforeListening()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.Combine("bad.json"), """{ "log": { "level": "loud" } }""");

        var result = Tools.Run(RepositoryPaths.DaemonBinary, dir.Path, "run", "--config", "bad.json");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("log.level", result.Stderr);
        Assert.Equal("", result.Stdout);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        DaemonProcessTests.AssertNoCrashReport(result.Stderr);
    }

    [Fact]
    public async Task RunRefusesAWorkspaceCidrTooSmallForTheVethPair()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.Combine("small.json"), """{ "runtime": { "workspaceCidr": "10.0.5.0/31" } }""");

        var result = Tools.Run(RepositoryPaths.DaemonBinary, dir.Path, "run", "--config", "small.json");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("runtime.workspaceCidr: '10.0.5.0/31' is not big enough", result.Stderr);
    }

    [Fact]
    public async Task RunWithAWorkingAreaItCannotCreateSaysSoInOneLine()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.Combine("a-file"), "");
        var config = DaemonProcess.DefaultConfig(dir, out _, out _);
        config["content"]!["workingArea"] = dir.Combine("a-file", "workspaces");
        await File.WriteAllTextAsync(dir.Combine("wsd.json"), config.ToJsonString());

        var result = Tools.Run(RepositoryPaths.DaemonBinary, dir.Path, "run", "--config", "wsd.json");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.StartsWith($"wsd: cannot serve: content.workingArea: cannot create '{dir.Combine("a-file", "workspaces")}': ", result.Stderr);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        DaemonProcessTests.AssertNoCrashReport(result.Stderr);
    }

    [Fact]
    public async Task RunWithACertificateItCannotLoadSaysSoInOneLine()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.Combine("tls.crt"), "not a certificate\n");
        await File.WriteAllTextAsync(dir.Combine("tls.key"), "not a key\n");
        var config = DaemonProcess.DefaultConfig(dir, out _, out _);
        config["service"]!["tls"] = new System.Text.Json.Nodes.JsonObject { ["certPath"] = "tls.crt", ["keyPath"] = "tls.key" };
        await File.WriteAllTextAsync(dir.Combine("wsd.json"), config.ToJsonString());

        var result = Tools.Run(RepositoryPaths.DaemonBinary, dir.Path, "run", "--config", "wsd.json");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.StartsWith($"wsd: invalid configuration: service.tls: cannot load certificate '{dir.Combine("tls.crt")}' with key '{dir.Combine("tls.key")}': ", result.Stderr);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        DaemonProcessTests.AssertNoCrashReport(result.Stderr);
    }

    [Fact]
    public async Task ConfigDefaultPrintsTheEmbeddedDefault()
    {
        using var dir = new TempDirectory();

        var result = Tools.Run(RepositoryPaths.DaemonBinary, dir.Path, "config", "default");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("\"address\": \"127.0.0.1:8080\"", result.Stdout);
        Assert.Contains("\"address\": \"127.0.0.1:9500\"", result.Stdout);
        Assert.Contains("\"root\": \"./.wsd/storage\"", result.Stdout);
    }

    [Fact]
    public async Task VersionPrintsTheBuild()
    {
        using var dir = new TempDirectory();

        var result = Tools.Run(RepositoryPaths.DaemonBinary, dir.Path, "version");

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("wsd 0.", result.Stdout);
    }

    [Fact]
    public async Task AnUnknownCommandIsAUsageError()
    {
        using var dir = new TempDirectory();

        var result = Tools.Run(RepositoryPaths.DaemonBinary, dir.Path, "serve");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("unknown command 'serve'", result.Stderr);
        Assert.Contains("usage:", result.Stderr);
    }
}
