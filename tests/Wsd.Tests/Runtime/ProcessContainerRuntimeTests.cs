using Wsd.Linux;
using Wsd.Runtime;
using Wsd.Tests.Support;

namespace Wsd.Tests.Runtime;

/// <summary>The process provider against a real test container: by pid file, and by the cgroup a pattern names.</summary>
public sealed class ProcessContainerRuntimeTests : IAsyncLifetime
{
    readonly TempDirectory _dir = new();
    TestContainer _container = null!;
    string _cgroupRoot = null!;

    public async ValueTask InitializeAsync()
    {
        Tools.RequireRoot("the test container needs namespaces and cgroups");
        _cgroupRoot = TestContainer.CgroupV2Root() ?? throw new InvalidOperationException("no cgroup v2");
        _container = await TestContainer.StartAsync(_dir, "ws-rt", _dir.Combine("written-by-the-runtime"));
    }

    public async ValueTask DisposeAsync()
    {
        if (_container is not null)
            await _container.DisposeAsync();
        _dir.Dispose();
    }

    ProcessContainerRuntime Runtime(string pidDirectory, string pattern) =>
        new(pidDirectory, pattern, new CgroupV2(_cgroupRoot), new ProcFs());

    [Fact]
    public void APidFileNamesTheContainersInit()
    {
        var found = Runtime(_dir.Combine("written-by-the-runtime"), "").Find("ws-rt", out string whyNot);

        Assert.Equal("", whyNot);
        Assert.Equal((_container.Pid, 1, "/" + Path.GetFileName(_container.CgroupDirectory)), (found!.Pid, found.PidNamespaceLevel, found.CgroupPath));
    }

    [Fact]
    public void WithoutAPidFileTheCgroupPatternFindsTheInit()
    {
        string pattern = "/" + Path.GetFileName(_container.CgroupDirectory); // {instanceId} would stand for the ID

        var found = Runtime(_dir.Combine("nothing-here"), pattern).Find("ws-rt", out string whyNot);

        Assert.Equal("", whyNot);
        Assert.Equal((_container.Pid, pattern), (found!.Pid, found.CgroupPath));
    }

    [Fact]
    public void ACgroupWithoutAContainerInitOrAStalePidFileIsRefused()
    {
        string empty = Path.Combine(_cgroupRoot, Path.GetFileName(_container.CgroupDirectory) + "-empty");
        Directory.CreateDirectory(empty);
        try
        {
            Directory.CreateDirectory(_dir.Combine("stale"));
            File.WriteAllText(_dir.Combine("stale", "ws-rt.pid"), $"{Environment.ProcessId}\n"); // a node process, not a container init

            var byCgroup = Runtime(_dir.Combine("nothing-here"), "/" + Path.GetFileName(empty)).Find("ws-rt", out string noInit);
            var byStaleFile = Runtime(_dir.Combine("stale"), "").Find("ws-rt", out string notInit);

            Assert.Null(byCgroup);
            Assert.Contains("holds no container init", noInit);
            Assert.Null(byStaleFile);
            Assert.Contains("is not a container's init", notInit);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }
}
