using Grpc.Core;
using Wsd.Api.ContentService;
using Wsd.Api.WsDaemon;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>
/// A chunked backup or restore killed (SIGKILL) at each of its steps through the AOT binary
/// (docs/faults.md#crash-points): every acknowledged backup still restores bit-exact, and the
/// workspace backs up and restores again after a restart.
/// </summary>
public class ChunkedCrashTests
{
    static InitWorkspaceRequest Empty(string id) => new()
    {
        Id = id,
        Metadata = new WorkspaceMetadata { Owner = "user-1", MetaId = "meta-1" },
        Initializer = new WorkspaceInitializer { Empty = new EmptyInitializer() },
    };

    static Task<DaemonProcess> Node(TempDirectory dir, string area, string? crashAt = null) =>
        DaemonProcess.StartAsync(dir, config =>
        {
            config["content"]!["workingArea"] = dir.Combine(area);
            config["content"]!["backup"] = new System.Text.Json.Nodes.JsonObject { ["format"] = "chunked" };
        }, environment: crashAt is null ? null : new Dictionary<string, string> { ["WSD_CRASH_AT"] = crashAt });

    // Enough incompressible data for several 8 MiB packs, and small files beside it.
    static void Fill(string content, int version)
    {
        var random = new Random(version);
        Directory.CreateDirectory(Path.Combine(content, "src"));
        for (int i = 0; i < 3; i++)
        {
            var bytes = new byte[9 << 20];
            random.NextBytes(bytes);
            File.WriteAllBytes(Path.Combine(content, $"large{i}.bin"), bytes);
        }
        for (int i = 0; i < 40; i++)
            File.WriteAllText(Path.Combine(content, "src", $"f{i}.txt"), $"version {version} of file {i}\n" + new string('x', i * 300));
    }

    // Content and modes; owners are the fallback's (the test writes as root), and the ready marker is the init's own.
    static string Snapshot(string root) =>
        string.Join('\n', TreeSnapshot.Of(root, owners: false).Split('\n').Where(l => !l.StartsWith(".gitpod", StringComparison.Ordinal)));

    static async Task<string> RestoredSnapshot(TempDirectory dir, string id)
    {
        await using var node = await Node(dir, "check");
        await node.Content.InitWorkspaceAsync(Empty(id));
        return Snapshot(dir.Combine("check", id));
    }

    [Theory]
    [InlineData("chunked-pack-stored:1")]
    [InlineData("chunked-pack-stored:3")]
    [InlineData("chunked-before-manifest")]
    [InlineData("chunked-manifest-committed")]
    public async Task ABackupKilledAtAnyStepLosesNothingAcknowledged(string crashAt)
    {
        using var dir = new TempDirectory();
        string content = dir.Combine("a", "ws-a");
        await using (var node = await Node(dir, "a"))
        {
            await node.Content.InitWorkspaceAsync(Empty("ws-a"));
            Fill(content, 1);
            await node.Content.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = "ws-a" });
            await node.TerminateAsync(TimeSpan.FromSeconds(30));
        }
        string first = Snapshot(content);
        Fill(content, 2);
        string second = Snapshot(content);

        await using (var dying = await Node(dir, "a", crashAt))
        {
            await Assert.ThrowsAsync<RpcException>(async () => await dying.Content.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = "ws-a" }));
            await dying.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        // The acknowledged backup, or the new one once its manifest was committed: whole either way.
        string restored = await RestoredSnapshot(dir, "check-1");
        Assert.Equal(crashAt == "chunked-manifest-committed" ? second : first, restored);

        // After a restart the workspace is there, backs up and restores as it is now.
        await using (var node = await Node(dir, "a"))
        {
            await node.Content.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = "ws-a" });
            await node.TerminateAsync(TimeSpan.FromSeconds(30));
        }
        Assert.Equal(second, await RestoredSnapshot(dir, "check-2"));
    }

    [Fact]
    public async Task ARestoreKilledMidwayLeavesAFailedWorkspaceAndTheBackupRestoresWhole()
    {
        using var dir = new TempDirectory();
        await using (var node = await Node(dir, "a"))
        {
            await node.Content.InitWorkspaceAsync(Empty("ws-a"));
            Fill(dir.Combine("a", "ws-a"), 1);
            await node.Content.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = "ws-a" });
        }
        string expected = Snapshot(dir.Combine("a", "ws-a"));

        await using (var dying = await Node(dir, "b", "chunked-restore-range:2"))
        {
            await Assert.ThrowsAsync<RpcException>(async () => await dying.Content.InitWorkspaceAsync(Empty("ws-b")));
            await dying.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        await using var restarted = await Node(dir, "b");
        var wait = await Assert.ThrowsAsync<RpcException>(async () => await restarted.Content.WaitForInitAsync(new WaitForInitRequest { Id = "ws-b" }));
        Assert.Contains("interrupted", wait.Status.Detail);
        await restarted.Content.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-b" });
        await restarted.Content.InitWorkspaceAsync(Empty("ws-b2"));
        Assert.Equal(expected, Snapshot(dir.Combine("b", "ws-b2")));
    }
}
