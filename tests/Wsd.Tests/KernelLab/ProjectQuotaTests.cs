namespace Wsd.Tests.KernelLab;

/// <summary>
/// storage_quota_bytes on a real XFS filesystem mounted with prjquota, inside the kernel lab (this
/// host's kernel has no quota support). The checks are in tests/kernel-lab/scenarios/quota.sh.
/// </summary>
public class ProjectQuotaTests(QuotaLabRun run) : IClassFixture<QuotaLabRun>
{
    [Fact]
    public void WritesPastTheHardLimitFailInsideTheWorkspaceButNotOutside() => run.RequirePassed(
        "init with a quota",
        "writes within the limit succeed",
        "writes past the hard limit fail",
        "writes outside the workspace are not limited",
        "statfs inside the workspace shows the limit",
        "a new subdirectory",
        "new subdirectories inherit the project",
        "the first id is 1000",
        "wsd quota reports the hard limit");

    [Fact]
    public void ARestoreLargerThanTheLimitSucceedsWhileInitializing() => run.RequirePassed(
        "init a workspace without a quota",
        "back it up and dispose",
        "a restore larger than the quota succeeds",
        "the restored content is whole",
        "once ready the hard limit holds",
        "its project is 1001");

    [Fact]
    public void IdsAreFreedWithTheirLimitsAndReused() => run.RequirePassed(
        "dispose the first workspace",
        "its limits are gone",
        "init another limited workspace",
        "it reuses the freed id 1000");

    [Fact]
    public void ARestartedDaemonKeepsTheLimitsAndTheIdsInUse() => run.RequirePassed(
        "after a restart the limit still holds",
        "after a restart a new workspace gets a new id",
        "which is 1002");

    [Fact]
    public void ASecondDaemonOnTheFilesystemRespectsIdsInUseThere() => run.RequirePassed(
        "a second daemon on the filesystem inits a limited workspace",
        "with an id no one else uses (1003)");
}
