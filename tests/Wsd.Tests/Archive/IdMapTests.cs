using Wsd.Archive;
using Wsd.Linux;

namespace Wsd.Tests.Archive;

public class IdMapTests
{
    [Theory]
    [InlineData(33333u, 0u)]
    [InlineData(100000u, 1u)]
    [InlineData(133332u, 33333u)]
    [InlineData(165533u, 65534u)]
    public void TheGitpodMappingShiftsHostToWorkspace(uint host, uint container)
    {
        Assert.True(IdMap.Gitpod.TryToContainer(host, out uint got));
        Assert.Equal(container, got);
        Assert.True(IdMap.Gitpod.TryToHost(container, out uint back));
        Assert.Equal(host, back);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1000u)]
    [InlineData(165534u)]
    [InlineData(uint.MaxValue)]
    public void HostIdsOutsideTheRangesGetTheFallback(uint host)
    {
        Assert.False(IdMap.Gitpod.TryToContainer(host, out uint container));
        Assert.Equal(IdMap.OverflowId, container);
    }

    [Fact]
    public void WorkspaceIdsOutsideTheRangesBecomeTheFallbacksHostId()
    {
        Assert.False(IdMap.Gitpod.TryToHost(70000, out uint host));
        Assert.Equal(165533u, host);
    }

    [Fact]
    public void IdentityMapsEveryValidId()
    {
        // 2^32-1 is (uid_t)-1, "no change" to chown: never a file's owner.
        Assert.True(IdMap.Identity.TryToContainer(uint.MaxValue - 1, out uint id));
        Assert.Equal(uint.MaxValue - 1, id);
        Assert.True(IdMap.Identity.IsIdentity);
    }

    [Fact]
    public void OverlappingRangesAreRefused() =>
        Assert.Throws<ArgumentException>(() => new IdMap([new IdRange(0, 1000, 10), new IdRange(5, 5000, 10)]));

    [Theory]
    [InlineData("0:100000:65536", 0u, 100000u, 65536u)]
    [InlineData("1:2:3", 1u, 2u, 3u)]
    public void RangesParseFromTheFlagNotation(string text, uint container, uint host, uint size) =>
        Assert.Equal(new IdRange(container, host, size), IdRange.Parse(text));

    [Theory]
    [InlineData("0:1")]
    [InlineData("0:1:0")]
    [InlineData("a:b:c")]
    [InlineData("4294967295:0:2")]
    public void BadRangesAreRefused(string text) => Assert.Throws<FormatException>(() => IdRange.Parse(text));
}
