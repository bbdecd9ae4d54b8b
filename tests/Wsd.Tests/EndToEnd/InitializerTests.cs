using System.Security.Cryptography;
using Grpc.Core;
using Wsd.Api.ContentService;
using Wsd.Api.WsDaemon;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>Initializer kinds and their failure modes through the AOT binary, against real git and HTTP servers on loopback.</summary>
public class InitializerTests
{
    static InitWorkspaceRequest Init(string id, WorkspaceInitializer initializer) => new()
    {
        Id = id,
        Metadata = new WorkspaceMetadata { Owner = "user-1", MetaId = id + "-meta" },
        Initializer = initializer,
    };

    static WorkspaceInitializer Git(string url, GitConfig config) =>
        new() { Git = new GitInitializer { RemoteUri = url, CheckoutLocation = "repo", Config = config } };

    [Fact]
    public async Task BasicAuthOverHttpWorksAndThePasswordIsNeverLogged()
    {
        Tools.RequireRoot("git as the workspace user");
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;
        GitRepository.CreateBare(dir, "project.git");
        await using var http = await TestHttpServer.StartAsync();
        http.ServeGit(dir.Path, "alice", "s3cret-passw0rd");

        await client.InitWorkspaceAsync(Init("ws-1", Git($"{http.BaseUrl}/git/project.git",
            new GitConfig { Authentication = GitAuthMethod.BasicAuth, AuthUser = "alice", AuthPassword = "s3cret-passw0rd" })), deadline: DateTime.UtcNow.AddMinutes(1));

        Assert.True(File.Exists(dir.Combine("workspaces", "ws-1", "repo", "README.md")));
        Assert.DoesNotContain("s3cret-passw0rd", daemon.Output);
        Assert.DoesNotContain("s3cret-passw0rd", File.ReadAllText(dir.Combine("workspaces", "ws-1", "repo", ".git", "config")));
    }

    [Fact]
    public async Task AOneTimeSecretIsFetchedOnceForAllGitCommands()
    {
        Tools.RequireRoot("git as the workspace user");
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;
        GitRepository.CreateBare(dir, "project.git");
        await using var http = await TestHttpServer.StartAsync();
        http.ServeGit(dir.Path, "bob", "one-time-pass");
        string ots = http.OneTimeSecret("bob", "one-time-pass");

        await client.InitWorkspaceAsync(Init("ws-1", new WorkspaceInitializer
        {
            Git = new GitInitializer
            {
                RemoteUri = $"{http.BaseUrl}/git/project.git",
                TargetMode = CloneTargetMode.RemoteBranch,
                CloneTaget = "feature",
                CheckoutLocation = "repo",
                Config = new GitConfig { Authentication = GitAuthMethod.BasicAuthOts, AuthOts = ots },
            },
        }), deadline: DateTime.UtcNow.AddMinutes(1));

        Assert.True(File.Exists(dir.Combine("workspaces", "ws-1", "repo", "feature.txt")));
        Assert.Equal(1, http.OtsFetches);
    }

    [Fact]
    public async Task AWrongPasswordFailsWithoutRevealingIt()
    {
        Tools.RequireRoot("git as the workspace user");
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;
        GitRepository.CreateBare(dir, "project.git");
        await using var http = await TestHttpServer.StartAsync();
        http.ServeGit(dir.Path, "alice", "right");

        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.InitWorkspaceAsync(Init("ws-1", Git($"{http.BaseUrl}/git/project.git",
            new GitConfig { Authentication = GitAuthMethod.BasicAuth, AuthUser = "alice", AuthPassword = "wrong-guess" })), deadline: DateTime.UtcNow.AddMinutes(1)));

        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.DoesNotContain("wrong-guess", e.Status.Detail);
        Assert.DoesNotContain("wrong-guess", daemon.Output);
    }

    [Fact]
    public async Task DownloadsAreVerifiedAndKeptInsideTheWorkspace()
    {
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;
        await using var http = await TestHttpServer.StartAsync();
        byte[] tool = SampleTree.Pattern(300_000);
        http.ServeBytes("/files/tool.bin", tool);
        string digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(tool));
        WorkspaceInitializer Download(string path, string sha) => new()
        {
            Download = new FileDownloadInitializer
            {
                TargetLocation = "tools",
                Files = { new FileDownloadInitializer.Types.FileInfo { Url = $"{http.BaseUrl}/files/tool.bin", FilePath = path, Digest = sha } },
            },
        };

        await client.InitWorkspaceAsync(Init("ws-ok", Download("bin/tool.bin", digest)));
        var mismatch = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.InitWorkspaceAsync(Init("ws-bad", Download("tool.bin", "sha256:" + new string('0', 64)))));
        var escape = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.InitWorkspaceAsync(Init("ws-escape", Download("../../escaped.bin", digest))));

        Assert.Equal(tool, File.ReadAllBytes(dir.Combine("workspaces", "ws-ok", "tools", "bin", "tool.bin")));
        Assert.Equal(StatusCode.FailedPrecondition, mismatch.StatusCode);
        Assert.Contains("digest mismatch", mismatch.Status.Detail);
        Assert.Equal(StatusCode.InvalidArgument, escape.StatusCode);
        Assert.False(File.Exists(dir.Combine("escaped.bin")));
    }

    [Fact]
    public async Task APrebuildWhoseSnapshotIsMissingFallsBackToACleanClone()
    {
        Tools.RequireRoot("git as the workspace user");
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;
        var repo = GitRepository.CreateBare(dir);

        await client.InitWorkspaceAsync(Init("ws-1", new WorkspaceInitializer
        {
            Prebuild = new PrebuildInitializer
            {
                Prebuild = new SnapshotInitializer { Snapshot = "someone/workspaces/gone/snapshot-1.tar@local" },
                Git = { new GitInitializer { RemoteUri = repo.Url, CheckoutLocation = "repo", Config = new GitConfig() } },
            },
        }), deadline: DateTime.UtcNow.AddMinutes(1));

        Assert.True(File.Exists(dir.Combine("workspaces", "ws-1", "repo", "src", "main.c")));
        Assert.Contains("\"source\":\"from-prebuild\"", File.ReadAllText(dir.Combine("workspaces", "ws-1", ".gitpod", "ready")));
    }

    [Fact]
    public async Task AMissingSnapshotIsNotFound()
    {
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;

        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.InitWorkspaceAsync(Init("ws-1",
            new WorkspaceInitializer { Snapshot = new SnapshotInitializer { Snapshot = "u/workspaces/w/snapshot-1.tar@local" } })));

        Assert.Equal((StatusCode.NotFound, "cannot find snapshot"), (e.StatusCode, e.Status.Detail));
    }

    [Fact]
    public async Task AHostileGitConfigNeverRunsAnythingAsRootOnDispose()
    {
        Tools.RequireRoot("git as the workspace user");
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;
        var repo = GitRepository.CreateBare(dir);
        await client.InitWorkspaceAsync(Init("ws-1", Git(repo.Url, new GitConfig())), deadline: DateTime.UtcNow.AddMinutes(1));
        string checkout = dir.Combine("workspaces", "ws-1", "repo");
        string marker = Path.Combine(checkout, "pwned");
        string rootMarker = dir.Combine("pwned-as-root");
        File.AppendAllText(Path.Combine(checkout, ".git", "config"), $"""
            [core]
                fsmonitor = "touch {rootMarker}; touch {marker}"
                pager = touch {rootMarker}
                hooksPath = {checkout}/hooks
            [filter "evil"]
                clean = sh -c 'touch {rootMarker}; touch {marker}; cat'
                smudge = cat
            [alias]
                status = !touch {rootMarker}
            """);
        File.WriteAllText(Path.Combine(checkout, ".gitattributes"), "* filter=evil\n");
        File.AppendAllText(Path.Combine(checkout, "README.md"), "changed\n");

        var disposed = await client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-1" });

        Assert.False(File.Exists(rootMarker), "something ran as root");
        Assert.NotNull(disposed.GitStatus); // the status was still read
    }

    [Fact]
    public async Task TwentyWorkspacesInitialiseAndBackUpConcurrently()
    {
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;
        var ids = Enumerable.Range(0, 20).Select(i => $"ws-{i}").ToArray();

        await Task.WhenAll(ids.Select(id => client.InitWorkspaceAsync(Init(id, new WorkspaceInitializer { Empty = new EmptyInitializer() })).ResponseAsync));
        foreach (var id in ids)
            File.WriteAllBytes(dir.Combine("workspaces", id, "data.bin"), SampleTree.Pattern(1 << 20));
        var urls = await Task.WhenAll(ids.Select(id => client.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = id }).ResponseAsync));

        Assert.Equal(20, urls.Select(u => u.Url).Distinct().Count());
        Assert.All(ids, id => Assert.True(File.Exists(dir.Combine("storage", "local", "user-1", "workspaces", id + "-meta", "full.tar"))));
    }

    [Fact]
    public async Task KilledDuringInitTheWorkspaceComesBackFailedNotHanging()
    {
        using var dir = new TempDirectory();
        await using var http = await TestHttpServer.StartAsync();
        var started = new TaskCompletionSource();
        http.Map("/slow", async context =>
        {
            started.TrySetResult();
            await Task.Delay(TimeSpan.FromMinutes(2), context.RequestAborted);
        });
        await using (var first = await DaemonProcess.StartAsync(dir))
        {
            var client = first.Content;
            var init = client.InitWorkspaceAsync(Init("ws-1", new WorkspaceInitializer
            {
                Download = new FileDownloadInitializer
                {
                    Files = { new FileDownloadInitializer.Types.FileInfo { Url = $"{http.BaseUrl}/slow", FilePath = "f", Digest = "sha256:" + new string('a', 64) } },
                },
            }));
            await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Contains("\"state\":\"initializing\"", File.ReadAllText(dir.Combine("workspaces", "ws-1.workspace.json")));
            // kill -9: DisposeAsync kills the process without a chance to clean up.
        }

        await using var second = await DaemonProcess.StartAsync(dir);
        var client2 = second.Content;
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await client2.WaitForInitAsync(new WaitForInitRequest { Id = "ws-1" }, deadline: DateTime.UtcNow.AddSeconds(10)));

        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.False(Directory.Exists(dir.Combine("workspaces", "ws-1")));
        await client2.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-1" });
        Assert.False((await client2.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "ws-1" })).Exists);
    }
}
