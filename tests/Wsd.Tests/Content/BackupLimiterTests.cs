using Wsd.Content;
using Wsd.Errors;
using Wsd.Observability;
using Wsd.Observability.Metrics;

namespace Wsd.Tests.Content;

public class BackupLimiterTests
{
    [Fact]
    public async Task AtMostNRunAndTheNextWaitsABoundedTime()
    {
        var registry = new MetricRegistry();
        var limiter = new BackupLimiter(2, TimeSpan.FromMilliseconds(100), new ContentMetrics(registry));
        using var first = await limiter.AcquireAsync(default);
        var second = await limiter.AcquireAsync(default);

        var e = await Assert.ThrowsAsync<WsdException>(() => limiter.AcquireAsync(default));

        Assert.Equal(ErrorCode.ResourceExhausted, e.Code);
        Assert.Contains("gitpod_ws_daemon_concurrent_backup_waiting_timeout_total 1", registry.Render());
        second.Dispose();
        second.Dispose(); // releasing twice frees one slot only
        using var third = await limiter.AcquireAsync(default);
        await Assert.ThrowsAsync<WsdException>(() => limiter.AcquireAsync(default));
    }
}
