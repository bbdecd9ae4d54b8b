using Wsd.Tests.Support;

namespace Wsd.Tests.KernelLab;

/// <summary>
/// One boot of the kernel lab running a scenario against a fresh XFS image as /dev/vda; the tests
/// of a class each check their part of its output.
/// </summary>
public abstract class LabScenarioRun(string scenario, string[] modules, string append = "", string[]? packages = null, string[]? programs = null) : IAsyncLifetime
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
        Lab = await Support.KernelLab.RunAsync(scenario, disks: [image], modules: modules, append: append, packages: packages, programs: programs);
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

/// <summary>scenarios/quota.sh: project quotas on XFS mounted with prjquota.</summary>
public sealed class QuotaLabRun() : LabScenarioRun("quota.sh", ["xfs"]);

/// <summary>scenarios/cgroups.sh: the in-workspace service on a pure cgroup v2 kernel with controllers.</summary>
public sealed class CgroupLabRun() : LabScenarioRun("cgroups.sh", ["xfs"], "cgroup_no_v1=all");

/// <summary>scenarios/nfs.sh: MountNfs against a kernel NFS server (nfs-kernel-server's tools, fetched from apt) in the container's network.</summary>
public sealed class NfsLabRun() : LabScenarioRun("nfs.sh", ["xfs", "nfsd", "nfsv4"],
    packages: ["nfs-kernel-server", "nfs-common", "libwrap0"], programs: ["/usr/sbin/rpc.nfsd", "/usr/sbin/rpc.mountd", "/usr/sbin/exportfs"]);
