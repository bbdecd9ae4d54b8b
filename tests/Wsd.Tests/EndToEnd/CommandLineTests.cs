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
