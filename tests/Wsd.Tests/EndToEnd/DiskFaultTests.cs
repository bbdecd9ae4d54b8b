using System.Diagnostics;
using Grpc.Core;
using Wsd.Api.ContentService;
using Wsd.Api.WsDaemon;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>
/// Full, read-only and broken filesystems at every step that writes (docs/faults.md), on real small
/// tmpfs mounts: each case checks the status, that nothing half-written is left, and that the same
/// call succeeds once the fault is gone.
/// </summary>
public class DiskFaultTests(ITestOutputHelper output)
{
    static InitWorkspaceRequest Init(string id, WorkspaceInitializer? initializer = null) => new()
    {
        Id = id,
        Metadata = new WorkspaceMetadata { Owner = "user-1", MetaId = "meta-" + id },
        Initializer = initializer ?? new WorkspaceInitializer { Empty = new EmptyInitializer() },
    };

    // The disk guard would refuse first on these small filesystems; these tests are about what comes after it.
    static Task<DaemonProcess> StartAsync(TempDirectory dir) =>
        DaemonProcess.StartAsync(dir, config => config["content"]!["minFreeBytes"] = 0);

    static void AssertNothingLeftOf(TempDirectory dir, string id)
    {
        Assert.False(Directory.Exists(dir.Combine("workspaces", id)), "content left behind");
        Assert.False(Directory.Exists(dir.Combine("workspaces", id + "-daemon")), "service directory left behind");
        Assert.False(File.Exists(dir.Combine("workspaces", id + ".workspace.json")), "session file left behind");
        Assert.Empty(Directory.EnumerateFiles(dir.Combine("workspaces"), ".*tmp-*"));
    }

    static void AssertNoUploadLeftIn(string store) =>
        Assert.Empty(Directory.EnumerateFiles(store, ".*.upload-*", SearchOption.AllDirectories));

    static void WriteFile(string path, long bytes)
    {
        var chunk = SampleTree.Pattern(1 << 20);
        using var file = File.Create(path);
        for (long written = 0; written < bytes; written += chunk.Length)
            file.Write(chunk, 0, (int)Math.Min(chunk.Length, bytes - written));
    }

    [Fact]
    public async Task AFullWorkingAreaDuringA1500MBRestoreIsResourceExhaustedLeavesNothingAndNoWaiterAndWorksOnceFreed()
    {
        using var dir = new TempDirectory();
        using var area = new Tmpfs(dir.Combine("workspaces"), "256m");
        using var store = new Tmpfs(dir.Combine("storage"), "2g");
        // The snapshot: 1.5 GB in six files, archived by GNU tar straight into the store.
        string key = "user-1/workspaces/meta-big/snapshot-1.tar";
        using (var tree = new Tmpfs(dir.Combine("tree"), "2g"))
        {
            for (int i = 0; i < 6; i++)
                WriteFile(Path.Combine(tree.Path, $"part-{i}.bin"), 250L << 20);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(store.Path, "local", key))!);
            Tools.Ok("tar", "/", "-cf", Path.Combine(store.Path, "local", key), "-C", tree.Path, ".");
        }
        await using var daemon = await StartAsync(dir);
        var client = daemon.Content;
        var restore = new WorkspaceInitializer { Snapshot = new SnapshotInitializer { Snapshot = key + "@local" } };

        var clock = Stopwatch.StartNew();
        var init = client.InitWorkspaceAsync(Init("ws-1", restore)).ResponseAsync;
        // A waiter without a deadline, started while the restore runs, must end with it.
        Task<WaitForInitResponse>? waiter = null;
        while (!init.IsCompleted && waiter is null)
        {
            if ((await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "ws-1" })).Exists)
                waiter = client.WaitForInitAsync(new WaitForInitRequest { Id = "ws-1" }).ResponseAsync;
        }
        var e = await Assert.ThrowsAsync<RpcException>(() => init);
        clock.Stop();
        output.WriteLine($"answered in {clock.Elapsed.TotalSeconds:F2} s: {e.Status}");

        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains($"working area {dir.Combine("workspaces")}: no space left", e.Status.Detail);
        Assert.Matches(@"needed about 1\.\d GiB, free [\d.]+ MiB of 256\.0 MiB", e.Status.Detail);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        if (waiter is not null)
        {
            var waited = await Assert.ThrowsAsync<RpcException>(() => waiter.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.True(waited.StatusCode is StatusCode.FailedPrecondition or StatusCode.NotFound, waited.Status.ToString());
        }
        AssertNothingLeftOf(dir, "ws-1");
        Assert.False((await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "ws-1" })).Exists);
        Assert.True(Wsd.Linux.FreeSpace.AvailableBytes(area.Path) > 250L << 20, "the partial content's space was not given back");

        area.Resize("2g");
        await client.InitWorkspaceAsync(Init("ws-1", restore));
        await client.WaitForInitAsync(new WaitForInitRequest { Id = "ws-1" }, deadline: DateTime.UtcNow.AddSeconds(10));
        Assert.Equal(250L << 20, new FileInfo(dir.Combine("workspaces", "ws-1", "part-5.bin")).Length);
    }

    [Fact]
    public async Task ANewSessionOnAFullWorkingAreaIsResourceExhaustedAndLeavesNothing()
    {
        using var dir = new TempDirectory();
        using var area = new Tmpfs(dir.Combine("workspaces"), "16m");
        await using var daemon = await StartAsync(dir);
        string filler = area.Fill(".filler");

        var e = await Assert.ThrowsAsync<RpcException>(async () => await daemon.Content.InitWorkspaceAsync(Init("ws-1")));

        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("no space left", e.Status.Detail);
        Assert.Contains("free 0.0 MiB of 16.0 MiB", e.Status.Detail);
        AssertNothingLeftOf(dir, "ws-1");
        File.Delete(filler);
        await daemon.Content.InitWorkspaceAsync(Init("ws-1"));
    }

    [Fact]
    public async Task AGitCloneIntoAFullWorkingAreaIsResourceExhaustedAndLeavesNothing()
    {
        Tools.RequireRoot("git as the workspace user");
        using var dir = new TempDirectory();
        // 24 MiB that do not compress, so the pack alone does not fit into 16 MiB.
        string work = dir.Combine("big-work");
        Directory.CreateDirectory(work);
        GitRepository.Git(work, "init", "-q", "-b", "main");
        File.WriteAllBytes(Path.Combine(work, "blob.bin"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(24 << 20));
        GitRepository.Git(work, "add", ".");
        GitRepository.Git(work, "commit", "-q", "-m", "big");
        string bare = dir.Combine("big.git");
        GitRepository.Git(dir.Path, "clone", "-q", "--bare", work, bare);
        Tools.Ok("chown", "/", "-R", "133332:133332", bare);
        using var area = new Tmpfs(dir.Combine("workspaces"), "16m");
        await using var daemon = await StartAsync(dir);
        var clone = new WorkspaceInitializer { Git = new GitInitializer { RemoteUri = "file://" + bare, CheckoutLocation = "repo", TargetMode = CloneTargetMode.RemoteHead, Config = new GitConfig() } };

        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await daemon.Content.InitWorkspaceAsync(Init("ws-1", clone), deadline: DateTime.UtcNow.AddMinutes(1)));

        Assert.True(e.StatusCode == StatusCode.ResourceExhausted, e.Status.ToString());
        Assert.Contains($"working area {dir.Combine("workspaces")}: no space left", e.Status.Detail);
        AssertNothingLeftOf(dir, "ws-1");
        area.Resize("128m");
        await daemon.Content.InitWorkspaceAsync(Init("ws-1", clone), deadline: DateTime.UtcNow.AddMinutes(1));
        Assert.Equal(24 << 20, new FileInfo(dir.Combine("workspaces", "ws-1", "repo", "blob.bin")).Length);
    }

    [Fact]
    public async Task ADownloadIntoAFullWorkingAreaIsResourceExhaustedAndLeavesNothing()
    {
        using var dir = new TempDirectory();
        using var area = new Tmpfs(dir.Combine("workspaces"), "16m");
        await using var daemon = await StartAsync(dir);
        await using var http = await TestHttpServer.StartAsync();
        byte[] tool = SampleTree.Pattern(24 << 20);
        http.ServeBytes("/tool.bin", tool);
        var download = new WorkspaceInitializer
        {
            Download = new FileDownloadInitializer
            {
                TargetLocation = "tools",
                Files = { new FileDownloadInitializer.Types.FileInfo { Url = $"{http.BaseUrl}/tool.bin", FilePath = "tool.bin",
                    Digest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(tool)) } },
            },
        };

        var e = await Assert.ThrowsAsync<RpcException>(async () => await daemon.Content.InitWorkspaceAsync(Init("ws-1", download)));

        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("no space left", e.Status.Detail);
        AssertNothingLeftOf(dir, "ws-1");
        area.Resize("64m");
        await daemon.Content.InitWorkspaceAsync(Init("ws-1", download));
    }

    [Fact]
    public async Task SnapshotBackupAndDisposeIntoAFullStoreAreResourceExhaustedKeepEverythingAndWorkOnceFreed()
    {
        using var dir = new TempDirectory();
        using var store = new Tmpfs(dir.Combine("storage"), "16m");
        await using var daemon = await StartAsync(dir);
        var client = daemon.Content;
        await client.InitWorkspaceAsync(Init("ws-1"));
        WriteFile(dir.Combine("workspaces", "ws-1", "big.bin"), 24 << 20);

        var snapshot = await Assert.ThrowsAsync<RpcException>(async () => await client.TakeSnapshotAsync(new TakeSnapshotRequest { Id = "ws-1" }));
        var backup = await Assert.ThrowsAsync<RpcException>(async () => await client.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = "ws-1" }));
        var dispose = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-1", Backup = true }));

        foreach (var e in new[] { snapshot, backup, dispose })
        {
            Assert.True(e.StatusCode == StatusCode.ResourceExhausted, e.Status.ToString());
            Assert.True(e.Status.Detail.Contains($"store {store.Path}: no space left"), $"snapshot: {snapshot.Status.Detail}\nbackup: {backup.Status.Detail}\ndispose: {dispose.Status.Detail}");
        }
        AssertNoUploadLeftIn(store.Path);
        Assert.True((await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "ws-1" })).Exists);
        Assert.Equal(24 << 20, new FileInfo(dir.Combine("workspaces", "ws-1", "big.bin")).Length);

        // The failed dispose left the workspace disposing (no more snapshots); its retry finishes it.
        store.Resize("128m");
        await client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-1", Backup = true });
        AssertNothingLeftOf(dir, "ws-1");
        await client.InitWorkspaceAsync(Init("ws-1"));
        Assert.Equal(24 << 20, new FileInfo(dir.Combine("workspaces", "ws-1", "big.bin")).Length);
    }

    [Fact]
    public async Task ADisposeOnAFullWorkingAreaStillBacksUpAndRemovesTheWorkspace()
    {
        using var dir = new TempDirectory();
        using var area = new Tmpfs(dir.Combine("workspaces"), "32m");
        await using var daemon = await StartAsync(dir);
        var client = daemon.Content;
        await client.InitWorkspaceAsync(Init("ws-1"));
        File.WriteAllText(dir.Combine("workspaces", "ws-1", "work.txt"), "keep me");
        await client.InitWorkspaceAsync(Init("ws-2"));
        area.Fill(".filler");

        await client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-1", Backup = true });
        await client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-2" });

        AssertNothingLeftOf(dir, "ws-1");
        AssertNothingLeftOf(dir, "ws-2");
        File.Delete(dir.Combine("workspaces", ".filler"));
        await client.InitWorkspaceAsync(Init("ws-1"));
        Assert.Equal("keep me", File.ReadAllText(dir.Combine("workspaces", "ws-1", "work.txt")));
    }

    [Fact]
    public async Task ARestartOnAFullWorkingAreaFailsTheInterruptedInitAndServesTheRest()
    {
        using var dir = new TempDirectory();
        using var area = new Tmpfs(dir.Combine("workspaces"), "32m");
        await using (var first = await StartAsync(dir))
        {
            await first.Content.InitWorkspaceAsync(Init("ws-ready"));
            await first.TerminateAsync(TimeSpan.FromSeconds(10));
        }
        // What a daemon killed mid-init leaves: a session still initializing, with partial content.
        File.WriteAllText(dir.Combine("workspaces", "ws-cut.workspace.json"),
            File.ReadAllText(dir.Combine("workspaces", "ws-ready.workspace.json")).Replace("ws-ready", "ws-cut").Replace("\"ready\"", "\"initializing\""));
        // The partial content is empty files: removing it frees nothing, so the working area stays full for the restart's own writes.
        Directory.CreateDirectory(dir.Combine("workspaces", "ws-cut", "src"));
        File.WriteAllBytes(dir.Combine("workspaces", "ws-cut", "src", "partial.c"), []);
        area.Fill(".filler");

        await using var daemon = await StartAsync(dir);

        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await daemon.Content.WaitForInitAsync(new WaitForInitRequest { Id = "ws-cut" }, deadline: DateTime.UtcNow.AddSeconds(10)));
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("interrupted by a daemon restart", e.Status.Detail);
        Assert.False(Directory.Exists(dir.Combine("workspaces", "ws-cut")));
        await daemon.Content.WaitForInitAsync(new WaitForInitRequest { Id = "ws-ready" }, deadline: DateTime.UtcNow.AddSeconds(10));
        await daemon.Content.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-cut" });
        AssertNothingLeftOf(dir, "ws-cut");
    }

    [Fact]
    public async Task AReadOnlyStoreIsAClearAnswerKeepsTheWorkspaceAndWorksOnceWritable()
    {
        Tools.RequireRoot("bind mounts");
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("storage"));
        await using var daemon = await StartAsync(dir);
        var client = daemon.Content;
        await client.InitWorkspaceAsync(Init("ws-1"));
        File.WriteAllText(dir.Combine("workspaces", "ws-1", "work.txt"), "keep me");
        Tools.Ok("mount", "/", "--bind", dir.Combine("storage"), dir.Combine("storage"));
        try
        {
            Tools.Ok("mount", "/", "-o", "remount,bind,ro", dir.Combine("storage"));

            var snapshot = await Assert.ThrowsAsync<RpcException>(async () => await client.TakeSnapshotAsync(new TakeSnapshotRequest { Id = "ws-1" }));
            var dispose = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-1", Backup = true }));

            Assert.Equal(StatusCode.FailedPrecondition, snapshot.StatusCode);
            Assert.Contains($"store {dir.Combine("storage")} is on a read-only filesystem", snapshot.Status.Detail);
            Assert.Equal(StatusCode.DataLoss, dispose.StatusCode); // the final backup failed: the content stays (docs/decisions.md#never-lose-a-workspace)
            Assert.Contains("read-only filesystem", dispose.Status.Detail);
            Assert.Equal("keep me", File.ReadAllText(dir.Combine("workspaces", "ws-1", "work.txt")));

            Tools.Ok("mount", "/", "-o", "remount,bind,rw", dir.Combine("storage"));
            await client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-1", Backup = true });
        }
        finally
        {
            Tools.Run("umount", "/", "-l", dir.Combine("storage"));
        }
        AssertNothingLeftOf(dir, "ws-1");
    }

    [Fact]
    public async Task AWorkingAreaRemountedReadOnlyRefusesNewWorkKeepsRunningOnesAndRecovers()
    {
        using var dir = new TempDirectory();
        using var area = new Tmpfs(dir.Combine("workspaces"), "64m");
        await using var daemon = await StartAsync(dir);
        var client = daemon.Content;
        await client.InitWorkspaceAsync(Init("ws-1"));
        File.WriteAllText(dir.Combine("workspaces", "ws-1", "work.txt"), "keep me");

        area.ReadOnly(true);
        try
        {
            var init = await Assert.ThrowsAsync<RpcException>(async () => await client.InitWorkspaceAsync(Init("ws-2")));
            // Backing up reads the working area only: it keeps working, so a failing node can still be drained.
            await client.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = "ws-1" });
            var dispose = await Assert.ThrowsAsync<RpcException>(async () => await client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-1" }));

            Assert.Equal(StatusCode.FailedPrecondition, init.StatusCode);
            Assert.Contains($"working area {area.Path} is on a read-only filesystem", init.Status.Detail);
            Assert.Equal(StatusCode.FailedPrecondition, dispose.StatusCode);
            Assert.Contains("read-only filesystem", dispose.Status.Detail);
            Assert.False((await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "ws-2" })).Exists);
            Assert.True((await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "ws-1" })).Exists);
            Assert.Equal(200, (int)(await new HttpClient().GetAsync(daemon.HealthUri("/live"))).StatusCode);
        }
        finally
        {
            area.ReadOnly(false);
        }
        await client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-1" });
        AssertNothingLeftOf(dir, "ws-1");
        await client.InitWorkspaceAsync(Init("ws-2"));
        await client.InitWorkspaceAsync(Init("ws-1"));
        Assert.Equal("keep me", File.ReadAllText(dir.Combine("workspaces", "ws-1", "work.txt")));
    }
}
