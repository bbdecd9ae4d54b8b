using System.Diagnostics;
using Grpc.Core;
using Wsd.Api.ContentService;
using Wsd.Api.WsDaemon;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>No wait is unbounded (docs/faults.md): an init that hangs ends at content.initTimeout, and so do its waiters.</summary>
public class WaitBoundsTests
{
    [Fact]
    public async Task AnInitThatHangsEndsAtTheInitTimeoutWithItsWaitersAndLeavesNothing()
    {
        using var dir = new TempDirectory();
        await using var http = await TestHttpServer.StartAsync();
        bool hang = true;
        http.Map("/tool", async context =>
        {
            if (hang)
                await Task.Delay(TimeSpan.FromMinutes(5), context.RequestAborted); // headers never come
            await context.Response.Body.WriteAsync("tool"u8.ToArray());
        });
        await using var daemon = await DaemonProcess.StartAsync(dir, config => config["content"]!["initTimeout"] = "3s");
        var client = daemon.Content;
        var request = new InitWorkspaceRequest
        {
            Id = "ws-1",
            Metadata = new WorkspaceMetadata { Owner = "user-1", MetaId = "meta-1" },
            Initializer = new WorkspaceInitializer
            {
                Download = new FileDownloadInitializer
                {
                    Files = { new FileDownloadInitializer.Types.FileInfo { Url = $"{http.BaseUrl}/tool", FilePath = "tool",
                        Digest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("tool"u8.ToArray())) } },
                },
            },
        };

        var clock = Stopwatch.StartNew();
        var init = client.InitWorkspaceAsync(request).ResponseAsync;
        while (!(await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "ws-1" })).Exists)
            await Task.Delay(10);
        var waiter = client.WaitForInitAsync(new WaitForInitRequest { Id = "ws-1" }).ResponseAsync; // no deadline of its own

        var waited = await Assert.ThrowsAsync<RpcException>(() => waiter.WaitAsync(TimeSpan.FromSeconds(30)));
        var e = await Assert.ThrowsAsync<RpcException>(() => init.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(StatusCode.FailedPrecondition, waited.StatusCode);
        Assert.Contains("content.initTimeout (3s)", waited.Status.Detail);
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        Assert.Contains("took longer than content.initTimeout", e.Status.Detail);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(20));
        Assert.False(Directory.Exists(dir.Combine("workspaces", "ws-1")));
        Assert.False(File.Exists(dir.Combine("workspaces", "ws-1.workspace.json")));

        hang = false;
        await client.InitWorkspaceAsync(request);
        Assert.Equal("tool", File.ReadAllText(dir.Combine("workspaces", "ws-1", "tool")));
    }
}
