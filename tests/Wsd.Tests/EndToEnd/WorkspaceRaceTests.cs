using System.Diagnostics;
using Grpc.Core;
using Wsd.Api.ContentService;
using Wsd.Api.WsDaemon;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>
/// A workspace user who races the AOT daemon during DisposeWorkspace (issue 14, finding 5): FIFOs
/// and symlinks where prebuild logs are expected, and directories swapped for symlinks to a canary
/// outside the workspace while the content is deleted.
/// </summary>
public sealed class WorkspaceRaceTests : IAsyncLifetime
{
    readonly TempDirectory _dir = new();
    DaemonProcess _daemon = null!;

    public async ValueTask InitializeAsync() => _daemon = await DaemonProcess.StartAsync(_dir);

    public async ValueTask DisposeAsync()
    {
        await _daemon.DisposeAsync();
        _dir.Dispose();
    }

    async Task InitAsync(string id) => await _daemon.Content.InitWorkspaceAsync(new InitWorkspaceRequest
    {
        Id = id,
        Metadata = new WorkspaceMetadata { Owner = "user-1", MetaId = "meta-" + id },
        Initializer = new WorkspaceInitializer { Empty = new EmptyInitializer() },
    });

    string Content(string id) => _dir.Combine("workspaces", id);

    string Log(string id, string task) => _dir.Combine("storage", "local", "user-1", "workspaces", "meta-" + id, "instances", id, "logs", task);

    [Fact]
    public async Task AFifoOrSymlinkNamedLikeAPrebuildLogNeitherBlocksDisposeNorIsUploaded()
    {
        await InitAsync("ws-logs");
        string secret = _dir.Combine("secret");
        File.WriteAllText(secret, "node secret");
        Tools.Ok("mkfifo", "/", Path.Combine(Content("ws-logs"), "prebuild-log-0"));
        File.CreateSymbolicLink(Path.Combine(Content("ws-logs"), "prebuild-log-1"), secret);
        File.WriteAllText(Path.Combine(Content("ws-logs"), "prebuild-log-2"), "building...\n");
        var clock = Stopwatch.StartNew();

        await _daemon.Content.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-logs", BackupLogs = true },
            deadline: DateTime.UtcNow.AddSeconds(30));

        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        Assert.False(File.Exists(Log("ws-logs", "0")));
        Assert.False(File.Exists(Log("ws-logs", "1")));
        Assert.Equal("building...\n", File.ReadAllText(Log("ws-logs", "2")));
        Assert.False(Directory.Exists(Content("ws-logs")));
    }

    [Fact]
    public async Task AHugePrebuildLogIsStreamedAndCutNotReadIntoMemory()
    {
        await InitAsync("ws-big-log");
        // 300 MiB that cost the user nothing: a sparse file reads as zeros.
        using (var log = File.Create(Path.Combine(Content("ws-big-log"), "prebuild-log-0")))
            log.SetLength(300L << 20);

        await _daemon.Content.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-big-log", BackupLogs = true },
            deadline: DateTime.UtcNow.AddSeconds(60));

        Assert.Equal(Wsd.Content.LogUploader.MaxLogBytes, new FileInfo(Log("ws-big-log", "0")).Length);
        long peak = _daemon.PeakRssBytes;
        Assert.True(peak < 64L << 20, $"the daemon's peak RSS was {peak >> 20} MiB");
        Assert.Contains("only its first 268435456 bytes are uploaded", _daemon.Output);
    }

    [Fact]
    public async Task DisposeDeletesNothingOutsideTheWorkspaceWhileTheUserSwapsDirectoriesForSymlinks()
    {
        string canary = _dir.Combine("canary");
        for (int round = 0; round < 8; round++)
        {
            string id = $"ws-race-{round}";
            await InitAsync(id);
            using (new SymlinkSwapAttacker(Content(id), canary))
            {
                try
                {
                    await _daemon.Content.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = id }, deadline: DateTime.UtcNow.AddSeconds(60));
                }
                catch (RpcException e) when (e.StatusCode != StatusCode.DeadlineExceeded)
                {
                    // a delete that the user kept refilling may fail; housekeeping removes the rest later
                }
            }
            SymlinkSwapAttacker.AssertCanaryUntouched(canary, $"round {round}");
        }
    }
}
