namespace Wsd.Tests.KernelLab;

/// <summary>
/// What this host's cgroup v2 hierarchy (no cpu or memory controller) cannot show, in the kernel
/// lab booted with cgroup_no_v1=all. The checks are in tests/kernel-lab/scenarios/cgroups.sh.
/// </summary>
public class InWorkspaceLabTests(CgroupLabRun run) : IClassFixture<CgroupLabRun>
{
    [Fact]
    public void PrepareAndEvacuateBuildTheWorkspaceCgroupTreeWithControllers() => run.RequirePassed(
        "init the workspace",
        "PrepareForUserNS",
        "the mark is the container's root, ID-mapped",
        "/dev/net/tun in the container",
        "EvacuateCGroup",
        "the container's processes are in workspace/user",
        "nothing is left above",
        "the controllers are delegated to workspace",
        "workspace belongs to the workspace's root");

    [Fact]
    public void WorkspaceInfoReportsCpuAndMemoryFromTheContainersCgroup() => run.RequirePassed(
        "WorkspaceInfo keeps a fractional CPU limit (1.5 CPUs = 1500)",
        "WorkspaceInfo reads the memory limit",
        "WorkspaceInfo sees the busy loop",
        "WorkspaceInfo sees memory in use");

    [Fact]
    public void MountProcMasksKcore() => run.RequirePassed(
        "MountProc",
        "kcore is masked",
        "the proc is the container's PID namespace");
}
