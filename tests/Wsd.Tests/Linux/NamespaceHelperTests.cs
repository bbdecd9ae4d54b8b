using Wsd.Errors;
using Wsd.Linux;
using Wsd.Tests.Support;

namespace Wsd.Tests.Linux;

/// <summary>The node-wide cap on namespace helper processes (issue 14, finding 5), with real helper processes.</summary>
public sealed class NamespaceHelperTests
{
    [Fact]
    public async Task AHelperPastTheNodesCapIsRefusedAtOnceAndItsSlotComesBack()
    {
        Tools.RequireRoot("the helper joins a PID namespace");
        // sleep stands in for the daemon's own binary: a helper that takes its time.
        var helper = new NamespaceHelper(Tools.Which("sleep")!, maxConcurrent: 1);
        using var self = ProcessHandle.Open(new ProcFs(), Environment.ProcessId)!;

        var running = helper.RunInPidNamespaceOfAsync(self, ["2"], CancellationToken.None);
        var refused = await Assert.ThrowsAsync<WsdException>(() => helper.RunInPidNamespaceOfAsync(self, ["0"], CancellationToken.None));
        var first = await running;
        var later = await helper.RunInPidNamespaceOfAsync(self, ["0"], CancellationToken.None);

        Assert.Equal(ErrorCode.ResourceExhausted, refused.Code);
        Assert.StartsWith("too many namespace helpers: 1 are running on this node", refused.Message);
        Assert.Contains("try again in a few seconds", refused.Message);
        Assert.Equal((0, 0), (first.ExitCode, later.ExitCode));
    }
}
