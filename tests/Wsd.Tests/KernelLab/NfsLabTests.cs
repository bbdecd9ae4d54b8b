namespace Wsd.Tests.KernelLab;

/// <summary>
/// MountNfs against a real NFSv4 server in the kernel lab (this host's kernel has no NFS). The
/// checks are in tests/kernel-lab/scenarios/nfs.sh.
/// </summary>
public class NfsLabTests(NfsLabRun run) : IClassFixture<NfsLabRun>
{
    [Fact]
    public void MountNfsMountsTheExportInTheContainerOnlyWithNosuidAndNodev() => run.RequirePassed(
        "init the workspace",
        "MountNfs",
        "the export is readable in the container",
        "the mount is nosuid,nodev",
        "the node's own /mnt/nfs is untouched");

    [Fact]
    public void UmountNfsRemovesItAndUnsafeOptionsAreRefused() => run.RequirePassed(
        "a suid option is refused",
        "UmountNfs",
        "the mount is gone");
}
