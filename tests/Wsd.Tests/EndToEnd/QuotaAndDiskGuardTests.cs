using System.Globalization;
using System.Text.RegularExpressions;
using Grpc.Core;
using Wsd.Api.ContentService;
using Wsd.Api.WsDaemon;
using Wsd.Linux;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>
/// What the host can show of docs/decisions.md#quota-and-disk-guard: a quota refused where the filesystem
/// has no project quotas, and the disk guard. The quotas themselves are exercised in the kernel lab
/// (KernelLabQuotaTests).
/// </summary>
public class QuotaAndDiskGuardTests
{
    static InitWorkspaceRequest Empty(string id, long quota = 0) => new()
    {
        Id = id,
        Metadata = new WorkspaceMetadata { Owner = "user-1", MetaId = id },
        Initializer = new WorkspaceInitializer { Empty = new EmptyInitializer() },
        StorageQuotaBytes = quota,
    };

    [Fact]
    public async Task AQuotaWhereTheFilesystemHasNoProjectQuotasIsRefusedAndZeroWorks()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("workspaces"));
        using (var filesystem = ProjectQuotaFilesystem.Open(dir.Combine("workspaces"), out _))
            Assert.SkipWhen(filesystem is not null, $"{dir.Path} enforces project quotas on this machine; the kernel lab covers that case");
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;

        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.InitWorkspaceAsync(Empty("ws-1", quota: 10 << 20)));
        var exists = await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "ws-1" });
        await client.InitWorkspaceAsync(Empty("ws-2", quota: 0));

        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("storage_quota_bytes 10485760 cannot be applied", e.Status.Detail);
        Assert.Contains("prjquota", e.Status.Detail);
        Assert.False(exists.Exists);
        Assert.False(Directory.Exists(dir.Combine("workspaces", "ws-1")));
        Assert.True(Directory.Exists(dir.Combine("workspaces", "ws-2")));
    }

    [Fact]
    public async Task UnderTheMinimumFreeSpaceInitIsResourceExhaustedAndTheMetricsSayWhy()
    {
        using var dir = new TempDirectory();
        const long minimum = 1L << 60; // more than any disk here
        await using var daemon = await DaemonProcess.StartAsync(dir, config => config["content"]!["minFreeBytes"] = minimum);
        var client = daemon.Content;

        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.InitWorkspaceAsync(Empty("ws-1")));
        var exists = await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "ws-1" });
        using var http = new HttpClient();
        string metrics = await http.GetStringAsync(daemon.HealthUri("/metrics"));
        double free = Value(metrics, "wsd_working_area_free_bytes");
        double expected = new DriveInfo(dir.Combine("workspaces")).AvailableFreeSpace;

        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("under the minimum", e.Status.Detail);
        Assert.Contains("content.minFreeBytes", e.Status.Detail);
        Assert.False(exists.Exists);
        Assert.InRange(free, expected - (256 << 20), expected + (256 << 20)); // other tests write meanwhile
        Assert.Equal(minimum, Value(metrics, "wsd_working_area_min_free_bytes"));
    }

    static double Value(string metrics, string name)
    {
        var match = Regex.Match(metrics, $"^{name} (\\S+)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"{name} is not in /metrics");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}
