using Grpc.Core;
using Wsd.Api.ContentService;
using Wsd.Api.WsDaemon;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>The content lifecycle through the AOT binary over gRPC, with real git repositories and the local store.</summary>
public class WorkspaceContentTests
{
    static InitWorkspaceRequest GitInit(string id, GitRepository repo, CloneTargetMode mode = CloneTargetMode.RemoteHead, string target = "",
        string owner = "user-1", string workspace = "ws-meta-1") => new()
    {
        Id = id,
        Metadata = new WorkspaceMetadata { Owner = owner, MetaId = workspace },
        Initializer = new WorkspaceInitializer
        {
            Git = new GitInitializer { RemoteUri = repo.Url, TargetMode = mode, CloneTaget = target, CheckoutLocation = "repo", Config = new GitConfig() },
        },
    };

    static string ContentOf(TempDirectory dir, string id, string path) => File.ReadAllText(dir.Combine("workspaces", id, path));

    [Fact]
    public async Task InitFromGitSnapshotAndRestoreIntoASecondWorkspace()
    {
        Tools.RequireRoot("the daemon runs git as the workspace user and chowns content");
        using var dir = new TempDirectory();
        var repo = GitRepository.CreateBare(dir);
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;

        await client.InitWorkspaceAsync(GitInit("ws-a", repo), deadline: DateTime.UtcNow.AddMinutes(1));
        await client.WaitForInitAsync(new WaitForInitRequest { Id = "ws-a" });

        Assert.Equal("# hello\n", ContentOf(dir, "ws-a", "repo/README.md"));
        var st = TreeSnapshot.Stat(dir.Combine("workspaces", "ws-a", "repo", "README.md"));
        Assert.Equal((133332u, 133332u), (st.Uid, st.Gid)); // content belongs to the workspace user
        Assert.Contains("\"source\":\"from-other\"", ContentOf(dir, "ws-a", ".gitpod/ready"));

        var snapshot = await client.TakeSnapshotAsync(new TakeSnapshotRequest { Id = "ws-a" });
        Assert.Matches(@"^user-1/workspaces/ws-meta-1/snapshot-\d+\.tar@local$", snapshot.Url);

        await client.InitWorkspaceAsync(new InitWorkspaceRequest
        {
            Id = "ws-b",
            Metadata = new WorkspaceMetadata { Owner = "user-2", MetaId = "ws-meta-2" },
            Initializer = new WorkspaceInitializer { Snapshot = new SnapshotInitializer { Snapshot = snapshot.Url } },
        }, deadline: DateTime.UtcNow.AddMinutes(1));

        string Listing(string id) => string.Join('\n', TreeSnapshot.Of(dir.Combine("workspaces", id)).Split('\n').Where(l => !l.StartsWith(".gitpod")));
        Assert.Equal(Listing("ws-a"), Listing("ws-b"));
        Assert.Contains("\"source\":\"from-backup\"", ContentOf(dir, "ws-b", ".gitpod/ready"));

        using var http = new HttpClient();
        string metrics = await http.GetStringAsync(daemon.HealthUri("/metrics"));
        Assert.Contains("wsd_backups_total{kind=\"snapshot\",result=\"ok\"} 1", metrics);
        Assert.Contains("wsd_backup_duration_seconds_count{kind=\"snapshot\",result=\"ok\"} 1", metrics);
        Assert.Contains("wsd_backup_waiting_seconds_count 1", metrics);
        Assert.Contains("wsd_restores_total{kind=\"snapshot\",result=\"ok\"} 1", metrics);
        Assert.Contains("wsd_initializer_bytes_per_second_count{kind=\"git\"} 1", metrics);
        Assert.Contains("gitpod_ws_daemon_initializer_bytes_second_count{kind=\"git\"} 1", metrics);
        Assert.Contains("gitpod_ws_daemon_initializer_bytes_second_count{kind=\"snapshot\"} 1", metrics);
    }

    [Fact]
    public async Task BackupOnDisposeIsRestoredByTheNextInitOfTheSameWorkspace()
    {
        Tools.RequireRoot("git as the workspace user");
        using var dir = new TempDirectory();
        var repo = GitRepository.CreateBare(dir);
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;
        await client.InitWorkspaceAsync(GitInit("ws-1", repo), deadline: DateTime.UtcNow.AddMinutes(1));
        File.WriteAllText(dir.Combine("workspaces", "ws-1", "repo", "work-in-progress.txt"), "unsaved work\n");

        var disposed = await client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-1", Backup = true });

        Assert.Equal("main", disposed.GitStatus.Branch);
        Assert.Equal(repo.Head(), disposed.GitStatus.LatestCommit);
        Assert.Contains("work-in-progress.txt", disposed.GitStatus.UntrackedFiles);
        Assert.False(Directory.Exists(dir.Combine("workspaces", "ws-1")));
        Assert.False((await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "ws-1" })).Exists);

        // A new instance of the same workspace gets its backup, not a fresh clone
        // (docs/compatibility.md#content-initialization).
        await client.InitWorkspaceAsync(GitInit("ws-2", repo), deadline: DateTime.UtcNow.AddMinutes(1));
        Assert.Equal("unsaved work\n", ContentOf(dir, "ws-2", "repo/work-in-progress.txt"));
        Assert.Contains("\"source\":\"from-backup\"", ContentOf(dir, "ws-2", ".gitpod/ready"));
    }

    [Theory]
    [InlineData(CloneTargetMode.RemoteBranch, "feature", "feature.txt")]
    [InlineData(CloneTargetMode.LocalBranch, "topic", "src/main.c")]
    public async Task BranchTargetsAreCheckedOut(CloneTargetMode mode, string target, string expectedFile)
    {
        Tools.RequireRoot("git as the workspace user");
        using var dir = new TempDirectory();
        var repo = GitRepository.CreateBare(dir);
        await using var daemon = await DaemonProcess.StartAsync(dir);
        using var channel = daemon.Channel();

        await new WorkspaceContentService.WorkspaceContentServiceClient(channel)
            .InitWorkspaceAsync(GitInit("ws-1", repo, mode, target), deadline: DateTime.UtcNow.AddMinutes(1));

        Assert.True(File.Exists(dir.Combine("workspaces", "ws-1", "repo", expectedFile)));
        string branch = GitRepository.Git(dir.Combine("workspaces", "ws-1", "repo"), "-c", "safe.directory=*", "rev-parse", "--abbrev-ref", "HEAD").Trim();
        Assert.Equal(target, branch);
    }

    [Fact]
    public async Task ACommitTargetIsCheckedOutDetached()
    {
        Tools.RequireRoot("git as the workspace user");
        using var dir = new TempDirectory();
        var repo = GitRepository.CreateBare(dir);
        string first = GitRepository.Git(repo.Path, "-c", "safe.directory=*", "rev-list", "--max-parents=0", "main").Trim();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        using var channel = daemon.Channel();

        await new WorkspaceContentService.WorkspaceContentServiceClient(channel)
            .InitWorkspaceAsync(GitInit("ws-1", repo, CloneTargetMode.RemoteCommit, first), deadline: DateTime.UtcNow.AddMinutes(1));

        string head = GitRepository.Git(dir.Combine("workspaces", "ws-1", "repo"), "-c", "safe.directory=*", "rev-parse", "HEAD").Trim();
        Assert.Equal(first, head);
        Assert.False(File.Exists(dir.Combine("workspaces", "ws-1", "repo", "src", "main.c")));
    }

    [Fact]
    public async Task AFailedInitIsFailedPreconditionAndLeavesNothingBehind()
    {
        Tools.RequireRoot("git as the workspace user");
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;
        var request = GitInit("ws-1", new GitRepository { Path = dir.Combine("no-such-repo.git") });

        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.InitWorkspaceAsync(request, deadline: DateTime.UtcNow.AddMinutes(1)));

        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("git clone", e.Status.Detail);
        Assert.False((await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "ws-1" })).Exists);
        Assert.False(Directory.Exists(dir.Combine("workspaces", "ws-1")));
    }

    [Fact]
    public async Task ValidationErrorsNeverTouchAnExistingWorkspace()
    {
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;
        await client.InitWorkspaceAsync(new InitWorkspaceRequest
        {
            Id = "ws-1",
            Metadata = new WorkspaceMetadata { Owner = "u", MetaId = "m" },
            Initializer = new WorkspaceInitializer { Empty = new EmptyInitializer() },
        });

        var missingMetadata = await Assert.ThrowsAsync<RpcException>(async () => await client.InitWorkspaceAsync(new InitWorkspaceRequest { Id = "ws-1" }));
        var again = await Assert.ThrowsAsync<RpcException>(async () => await client.InitWorkspaceAsync(new InitWorkspaceRequest
        {
            Id = "ws-1",
            Metadata = new WorkspaceMetadata { Owner = "u", MetaId = "m" },
        }));

        Assert.Equal((StatusCode.InvalidArgument, "metadata is missing"), (missingMetadata.StatusCode, missingMetadata.Status.Detail));
        Assert.Equal((StatusCode.AlreadyExists, "workspace exists already"), (again.StatusCode, again.Status.Detail));
        Assert.True((await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "ws-1" })).Exists);
        await client.WaitForInitAsync(new WaitForInitRequest { Id = "ws-1" });
    }

    [Fact]
    public async Task RemoteStorageDisabledIsFailedPreconditionForSnapshots()
    {
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;
        await client.InitWorkspaceAsync(new InitWorkspaceRequest
        {
            Id = "ws-1",
            Metadata = new WorkspaceMetadata { Owner = "u", MetaId = "m" },
            RemoteStorageDisabled = true,
        });

        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.TakeSnapshotAsync(new TakeSnapshotRequest { Id = "ws-1" }));

        Assert.Equal((StatusCode.FailedPrecondition, "workspace has no remote storage"), (e.StatusCode, e.Status.Detail));
    }
}
