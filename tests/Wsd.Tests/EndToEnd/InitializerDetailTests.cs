using Grpc.Core;
using Wsd.Api.ContentService;
using Wsd.Api.WsDaemon;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>The rest of the initializer surface (docs/compatibility.md#workspace-content) and the remaining status codes (docs/compatibility.md#status-codes-and-messages).</summary>
public class InitializerDetailTests
{
    static InitWorkspaceRequest Init(string id, WorkspaceInitializer initializer, string meta = "meta") => new()
    {
        Id = id,
        Metadata = new WorkspaceMetadata { Owner = "user-1", MetaId = meta },
        Initializer = initializer,
    };

    static string Git(string checkout, params string[] args) => GitRepository.Git(checkout, ["-c", "safe.directory=*", .. args]).Trim();

    [Fact]
    public async Task CompositeRunsItsChildrenInOrderWithConfigUpstreamAndFullClone()
    {
        Tools.RequireRoot("git as the workspace user");
        using var dir = new TempDirectory();
        var repo = GitRepository.CreateBare(dir, "origin.git");
        var upstream = GitRepository.CreateBare(dir, "upstream.git");
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;

        await client.InitWorkspaceAsync(Init("ws-1", new WorkspaceInitializer
        {
            Composite = new CompositeInitializer
            {
                Initializer =
                {
                    new WorkspaceInitializer
                    {
                        Git = new GitInitializer
                        {
                            RemoteUri = repo.Url, UpstreamRemoteUri = upstream.Url, CheckoutLocation = "one", FullClone = true,
                            Config = new GitConfig { CustomConfig = { ["user.name"] = " Workspace User ", ["core.autocrlf"] = "input" } },
                        },
                    },
                    new WorkspaceInitializer { Git = new GitInitializer { RemoteUri = repo.Url, CheckoutLocation = "two", Config = new GitConfig() } },
                },
            },
        }), deadline: DateTime.UtcNow.AddMinutes(1));

        string one = dir.Combine("workspaces", "ws-1", "one"), two = dir.Combine("workspaces", "ws-1", "two");
        Assert.Equal("Workspace User", Git(one, "config", "--local", "user.name"));
        Assert.Equal(upstream.Url, Git(one, "remote", "get-url", "upstream"));
        Assert.Equal("false", Git(one, "rev-parse", "--is-shallow-repository")); // full_clone
        Assert.Equal("true", Git(two, "rev-parse", "--is-shallow-repository"));
        string ready = File.ReadAllText(dir.Combine("workspaces", "ws-1", ".gitpod", "ready"));
        Assert.Contains("\"type\":\"composite\"", ready);
        // The session remembers the first checkout location (docs/compatibility.md#checkout-locations).
        Assert.Contains("\"checkoutLocation\":\"one\"", File.ReadAllText(dir.Combine("workspaces", "ws-1.workspace.json")));
    }

    [Fact]
    public async Task SubmodulesAreInitialisedWithTheSameCredentials()
    {
        Tools.RequireRoot("git as the workspace user");
        using var dir = new TempDirectory();
        await using var http = await TestHttpServer.StartAsync();
        http.ServeGit(dir.Path, "carol", "pw");
        var library = GitRepository.CreateBare(dir, "library.git");
        string work = dir.Combine("app-work");
        Directory.CreateDirectory(work);
        GitRepository.Git(work, "init", "-q", "-b", "main");
        Tools.Ok("chown", "/", "-R", "0:0", library.Path); // root's git adds it here; the daemon's user fetches it over HTTP
        GitRepository.Git(work, "-c", "protocol.file.allow=always", "submodule", "add", "-q", library.Url, "lib");
        // git only lets file:// submodules through when told to; the daemon never is, so they come over HTTP.
        GitRepository.Git(work, "config", "-f", ".gitmodules", "submodule.lib.url", $"{http.BaseUrl}/git/library.git");
        GitRepository.Git(work, "add", ".gitmodules");
        GitRepository.Git(work, "commit", "-q", "-m", "with submodule");
        GitRepository.Git(dir.Path, "clone", "-q", "--bare", work, dir.Combine("app.git"));
        Tools.Ok("chown", "/", "-R", "133332:133332", library.Path, dir.Combine("app.git"));
        await using var daemon = await DaemonProcess.StartAsync(dir);
        using var channel = daemon.Channel();

        await new WorkspaceContentService.WorkspaceContentServiceClient(channel).InitWorkspaceAsync(Init("ws-1", new WorkspaceInitializer
        {
            Git = new GitInitializer
            {
                RemoteUri = $"{http.BaseUrl}/git/app.git", CheckoutLocation = "app",
                Config = new GitConfig { Authentication = GitAuthMethod.BasicAuth, AuthUser = "carol", AuthPassword = "pw" },
            },
        }), deadline: DateTime.UtcNow.AddMinutes(1));

        Assert.True(File.Exists(dir.Combine("workspaces", "ws-1", "app", "lib", "README.md")), daemon.Output);
    }

    [Fact]
    public async Task FromBackupWithoutABackupFails()
    {
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        using var channel = daemon.Channel();

        var e = await Assert.ThrowsAsync<RpcException>(async () => await new WorkspaceContentService.WorkspaceContentServiceClient(channel)
            .InitWorkspaceAsync(Init("ws-1", new WorkspaceInitializer { Backup = new FromBackupInitializer() })));

        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("no backup found", e.Status.Detail);
    }

    [Fact]
    public async Task AGitpodFileBecomesGitpodYamlAndTheMarkerGoesIntoADirectory()
    {
        Tools.RequireRoot("git as the workspace user");
        using var dir = new TempDirectory();
        string work = dir.Combine("cfg-work");
        Directory.CreateDirectory(work);
        GitRepository.Git(work, "init", "-q", "-b", "main");
        File.WriteAllText(Path.Combine(work, ".gitpod"), "tasks: []\n");
        GitRepository.Git(work, "add", ".");
        GitRepository.Git(work, "commit", "-q", "-m", "gitpod file");
        GitRepository.Git(dir.Path, "clone", "-q", "--bare", work, dir.Combine("cfg.git"));
        Tools.Ok("chown", "/", "-R", "133332:133332", dir.Combine("cfg.git"));
        await using var daemon = await DaemonProcess.StartAsync(dir);
        using var channel = daemon.Channel();

        await new WorkspaceContentService.WorkspaceContentServiceClient(channel).InitWorkspaceAsync(Init("ws-1", new WorkspaceInitializer
        {
            Git = new GitInitializer { RemoteUri = "file://" + dir.Combine("cfg.git"), Config = new GitConfig() },
        }), deadline: DateTime.UtcNow.AddMinutes(1));

        Assert.Equal("tasks: []\n", File.ReadAllText(dir.Combine("workspaces", "ws-1", ".gitpod.yaml")));
        Assert.True(File.Exists(dir.Combine("workspaces", "ws-1", ".gitpod", "ready")));
    }

    [Fact]
    public async Task ASnapshotThatReturnsImmediatelyStillArrives()
    {
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;
        await client.InitWorkspaceAsync(Init("ws-1", new WorkspaceInitializer { Empty = new EmptyInitializer() }));
        File.WriteAllText(dir.Combine("workspaces", "ws-1", "f"), "content");

        var snapshot = await client.TakeSnapshotAsync(new TakeSnapshotRequest { Id = "ws-1", ReturnImmediately = true });

        string key = snapshot.Url[..snapshot.Url.LastIndexOf('@')];
        string path = dir.Combine("storage", "local", key);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!File.Exists(path))
        {
            Assert.True(DateTime.UtcNow < deadline, "the snapshot never arrived");
            await Task.Delay(20);
        }
        await client.InitWorkspaceAsync(Init("ws-2", new WorkspaceInitializer { Snapshot = new SnapshotInitializer { Snapshot = snapshot.Url } }, meta: "other"));
        Assert.Equal("content", File.ReadAllText(dir.Combine("workspaces", "ws-2", "f")));
    }

    [Fact]
    public async Task StatusCodesForWorkspacesThatAreNotReady()
    {
        using var dir = new TempDirectory();
        await using var http = await TestHttpServer.StartAsync();
        http.Map("/slow", context => Task.Delay(TimeSpan.FromMinutes(2), context.RequestAborted));
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;
        _ = client.InitWorkspaceAsync(Init("ws-1", new WorkspaceInitializer
        {
            Download = new FileDownloadInitializer
            {
                Files = { new FileDownloadInitializer.Types.FileInfo { Url = $"{http.BaseUrl}/slow", FilePath = "f", Digest = "sha256:" + new string('b', 64) } },
            },
        })).ResponseAsync.ContinueWith(t => t.Exception, TaskScheduler.Default);
        while (!(await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "ws-1" })).Exists)
            await Task.Delay(10);

        var snapshot = await Assert.ThrowsAsync<RpcException>(async () => await client.TakeSnapshotAsync(new TakeSnapshotRequest { Id = "ws-1" }));
        var dispose = await Assert.ThrowsAsync<RpcException>(async () => await client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-1", Backup = true }));
        var wait = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.WaitForInitAsync(new WaitForInitRequest { Id = "ws-1" }, deadline: DateTime.UtcNow.AddMilliseconds(300)));

        Assert.Equal((StatusCode.FailedPrecondition, "workspace is not ready"), (snapshot.StatusCode, snapshot.Status.Detail));
        Assert.Equal((StatusCode.FailedPrecondition, "workspace content was never ready"), (dispose.StatusCode, dispose.Status.Detail));
        Assert.Equal(StatusCode.DeadlineExceeded, wait.StatusCode); // the wait honours the caller's deadline
    }

    [Theory]
    [InlineData("../other-user", "workspace ID (metadata.meta_id) \"../other-user\" cannot be part of an object name")]
    [InlineData("a@bucket", "workspace ID (metadata.meta_id) \"a@bucket\" cannot be part of an object name")]
    [InlineData("", "workspace ID (metadata.meta_id) is required for remote storage")]
    public async Task AMetaIdThatCannotNameObjectsIsRefusedBeforeAnythingIsMade(string meta, string message)
    {
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var empty = new WorkspaceInitializer { Empty = new EmptyInitializer() };

        var e = await Assert.ThrowsAsync<RpcException>(async () => await daemon.Content.InitWorkspaceAsync(Init("ws-1", empty, meta)));

        Assert.Equal((StatusCode.InvalidArgument, message), (e.StatusCode, e.Status.Detail));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Combine("workspaces")));
        // Without remote storage no object is ever named after it.
        var local = Init("ws-1", empty, meta);
        local.RemoteStorageDisabled = true;
        await daemon.Content.InitWorkspaceAsync(local);
    }
}
