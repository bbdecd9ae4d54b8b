using System.Text.Json;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>`wsd client` against a running daemon, as the README shows an operator.</summary>
public class ClientCommandTests
{
    static JsonElement Client(DaemonProcess daemon, string workingDirectory, params string[] args)
    {
        var result = Tools.Run(RepositoryPaths.DaemonBinary, workingDirectory, ["client", "--address", $"127.0.0.1:{daemon.ServicePort}", .. args]);
        Assert.True(result.ExitCode == 0, $"wsd client {string.Join(' ', args)}: {result.Stdout} {result.Stderr}");
        return JsonDocument.Parse(result.Stdout).RootElement;
    }

    [Fact]
    public async Task InitFromGitSnapshotRestoreAndDispose()
    {
        Tools.RequireRoot("git as the workspace user");
        using var dir = new TempDirectory();
        var repo = GitRepository.CreateBare(dir);
        await using var daemon = await DaemonProcess.StartAsync(dir);

        Client(daemon, dir.Path, "init", "ws-1", "--git", repo.Url, "--branch", "feature", "--checkout", "repo");
        Assert.True(Client(daemon, dir.Path, "exists", "ws-1").GetProperty("exists").GetBoolean());
        Client(daemon, dir.Path, "wait", "ws-1");
        string url = Client(daemon, dir.Path, "snapshot", "ws-1").GetProperty("url").GetString()!;
        Client(daemon, dir.Path, "init", "ws-2", "--snapshot", url);
        var disposed = Client(daemon, dir.Path, "dispose", "ws-1", "--backup");

        Assert.Equal("feature\n", File.ReadAllText(dir.Combine("workspaces", "ws-2", "repo", "feature.txt")));
        Assert.Equal("feature", disposed.GetProperty("gitStatus").GetProperty("branch").GetString());
        Assert.False(Client(daemon, dir.Path, "exists", "ws-1").GetProperty("exists").GetBoolean());
    }

    [Fact]
    public async Task ErrorsPrintTheStatusAndExitOne()
    {
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);

        var result = Tools.Run(RepositoryPaths.DaemonBinary, dir.Path, "client", "--address", $"127.0.0.1:{daemon.ServicePort}", "wait", "nope");

        Assert.Equal(1, result.ExitCode);
        var error = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.Equal("NotFound", error.GetProperty("error").GetString());
        Assert.Equal("cannot find workspace nope during WaitForInit", error.GetProperty("message").GetString());
    }
}
