using Wsd.Tests.Support;

namespace Wsd.Tests.KernelLab;

/// <summary>
/// One boot of the kernel lab running scenarios/quota.sh against a fresh XFS image; the tests of
/// <see cref="ProjectQuotaTests"/> each check their part of its output.
/// </summary>
public sealed class QuotaLabRun : IAsyncLifetime
{
    readonly TempDirectory _dir = new();

    public Support.KernelLab? Lab { get; private set; }
    public string? SkipReason { get; private set; }

    public async ValueTask InitializeAsync()
    {
        if (!Tools.Exists("mkfs.xfs"))
        {
            SkipReason = "mkfs.xfs is not installed (apt package xfsprogs; ./build.sh deps installs it)";
            return;
        }
        string image = _dir.Combine("xfs.img");
        using (var file = File.Create(image))
            file.SetLength(512L << 20); // sparse; XFS wants 300 MB at least
        Tools.Ok("mkfs.xfs", _dir.Path, "-q", "-f", image);
        Lab = await Support.KernelLab.RunAsync("quota.sh", disks: [image], modules: ["xfs"]);
        SkipReason = Lab.SkipReason;
    }

    /// <summary>Fails unless every named check of the scenario passed; skips when the lab could not run.</summary>
    public void RequirePassed(params string[] checks)
    {
        Assert.SkipWhen(SkipReason is not null, SkipReason ?? "");
        TestContext.Current.TestOutputHelper?.WriteLine($"kernel lab boot and scenario: {Lab!.Elapsed.TotalSeconds:F1} s");
        Lab!.RequirePassed(checks);
    }

    public ValueTask DisposeAsync()
    {
        _dir.Dispose();
        return ValueTask.CompletedTask;
    }
}
