using Grpc.Core;
using Wsd.Api.ContentService;
using Wsd.Api.WsDaemon;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>Never losing a workspace (docs/decisions.md#never-lose-a-workspace): failed backups and daemon deaths at every step.</summary>
public class DurabilityTests
{
    static InitWorkspaceRequest Empty(string id) => new()
    {
        Id = id,
        Metadata = new WorkspaceMetadata { Owner = "user-1", MetaId = "meta-" + id },
        Initializer = new WorkspaceInitializer { Empty = new EmptyInitializer() },
    };

    static string BackupObject(TempDirectory dir, string id) => dir.Combine("storage", "local", "user-1", "workspaces", "meta-" + id, "full.tar");

    [Fact]
    public async Task AFailedFinalBackupIsDataLossKeepsEverythingAndCanBeRetried()
    {
        Tools.RequireRoot("chattr +i");
        Tools.Require("chattr", "e2fsprogs");
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;
        await client.InitWorkspaceAsync(Empty("ws-1"));
        File.WriteAllText(dir.Combine("workspaces", "ws-1", "work.txt"), "version 1");
        await client.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = "ws-1" });
        byte[] firstBackup = File.ReadAllBytes(BackupObject(dir, "ws-1"));
        File.WriteAllText(dir.Combine("workspaces", "ws-1", "work.txt"), "version 2");

        string objectDirectory = Path.GetDirectoryName(BackupObject(dir, "ws-1"))!;
        Tools.Ok("chattr", "/", "+i", objectDirectory); // storage refuses every write, even root's
        try
        {
            var e = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-1", Backup = true }));

            Assert.Equal(StatusCode.DataLoss, e.StatusCode);
            Assert.StartsWith("final backup failed", e.Status.Detail);
            Assert.Equal("version 2", File.ReadAllText(dir.Combine("workspaces", "ws-1", "work.txt")));
            Assert.Equal(firstBackup, File.ReadAllBytes(BackupObject(dir, "ws-1")));
            Assert.True((await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "ws-1" })).Exists);
        }
        finally
        {
            Tools.Ok("chattr", "/", "-i", objectDirectory);
        }

        await client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-1", Backup = true });
        await client.InitWorkspaceAsync(Empty("ws-1"));
        Assert.Equal("version 2", File.ReadAllText(dir.Combine("workspaces", "ws-1", "work.txt")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task KilledDuringABackupNothingIsLostAndNoHalfObjectRemains(bool disposing)
    {
        using var dir = new TempDirectory();
        await using (var first = await DaemonProcess.StartAsync(dir))
        {
            var client = first.Content;
            await client.InitWorkspaceAsync(Empty("ws-1"));
            using (var big = File.Create(dir.Combine("workspaces", "ws-1", "big.bin")))
            {
                var chunk = SampleTree.Pattern(1 << 20);
                for (int i = 0; i < 1024; i++)
                    big.Write(chunk);
            }
            Task inFlight = disposing
                ? client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-1", Backup = true }).ResponseAsync
                : client.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = "ws-1" }).ResponseAsync;
            _ = inFlight.ContinueWith(t => t.Exception, TaskScheduler.Default); // it dies with the daemon
            string objectDirectory = Path.GetDirectoryName(BackupObject(dir, "ws-1"))!;
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!(Directory.Exists(objectDirectory) && Directory.EnumerateFiles(objectDirectory, ".*upload*").Any()))
            {
                Assert.True(DateTime.UtcNow < deadline, "the upload never started");
                await Task.Delay(5);
            }
            // kill -9 in the middle of the upload.
        }

        await using var second = await DaemonProcess.StartAsync(dir);
        var client2 = second.Content;

        Assert.True((await client2.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "ws-1" })).Exists);
        Assert.Equal(1L << 30, new FileInfo(dir.Combine("workspaces", "ws-1", "big.bin")).Length);
        Assert.Empty(Directory.EnumerateFiles(dir.Combine("storage"), ".*", SearchOption.AllDirectories));
        Assert.False(File.Exists(BackupObject(dir, "ws-1")));
        // The interrupted operation can be completed now.
        await client2.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-1", Backup = true });
        Assert.True(File.Exists(BackupObject(dir, "ws-1")));
    }

    [Fact]
    public async Task PrebuildLogsAreUploadedOnDisposeWithBackupLogs()
    {
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;
        await client.InitWorkspaceAsync(Empty("ws-1"));
        File.WriteAllText(dir.Combine("workspaces", "ws-1", ".gitpod", "prebuild-log-task0"), "building...\n");

        await client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-1", BackupLogs = true });

        Assert.Equal("building...\n", File.ReadAllText(dir.Combine("storage", "local", "user-1", "workspaces", "meta-ws-1", "instances", "ws-1", "logs", "task0")));
    }
}
