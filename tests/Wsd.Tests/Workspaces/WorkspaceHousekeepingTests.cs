using Wsd.Config;
using Wsd.Tests.Support;
using Wsd.Workspaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Wsd.Tests.Workspaces;

public class WorkspaceHousekeepingTests
{
    [Fact]
    public async Task CancelledByTheHostItEndsWithoutAFaultTheHostWouldReportAsACrash()
    {
        using var dir = new TempDirectory();
        var config = new WsdConfig();
        config.Service.Address = $"127.0.0.1:{FreePort.Next()}";
        config.Health.Address = $"127.0.0.1:{FreePort.Next()}";
        config.Content.WorkingArea = dir.Combine("workspaces");
        config.Content.Storage.Local.Root = dir.Combine("storage");
        config.Log.Level = "warning";
        var daemon = Program.BuildDaemon(config, verbose: false);
        await daemon.StartAsync(TestContext.Current.CancellationToken);
        var housekeeping = daemon.Services.GetServices<IHostedService>().OfType<WorkspaceHousekeeping>().Single();

        // The host disposed without being stopped cancels the service's token while it waits for
        // its next round (the delay lets its first round run).
        await Task.Delay(500, TestContext.Current.CancellationToken);
        await daemon.DisposeAsync();
        await Task.WhenAny(housekeeping.ExecuteTask!, Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));

        Assert.Equal(TaskStatus.RanToCompletion, housekeeping.ExecuteTask!.Status);
    }
}
