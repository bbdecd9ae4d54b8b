using Wsd.Config;
using Wsd.Linux;
using Wsd.Tests.Support;
using Wsd.Workspaces.InWorkspace;

namespace Wsd.Tests.Workspaces.InWorkspace;

public class FsShiftChoiceTests
{
    [Theory]
    [InlineData(FsShiftMode.Auto, true, FsShift.Shiftfs, true)]
    [InlineData(FsShiftMode.Auto, false, FsShift.Idmapped, true)]
    [InlineData(FsShiftMode.Idmapped, true, FsShift.Idmapped, true)]
    [InlineData(FsShiftMode.Idmapped, false, FsShift.Idmapped, true)]
    [InlineData(FsShiftMode.Shiftfs, true, FsShift.Shiftfs, true)]
    [InlineData(FsShiftMode.Shiftfs, false, FsShift.Shiftfs, false)] // as configured, and said at start
    public void AutoTakesShiftfsWhereTheKernelHasItAndAnExplicitModeIsKept(FsShiftMode mode, bool kernelHasShiftfs, FsShift method, bool usable)
    {
        var choice = FsShiftChoice.Decide(mode, kernelHasShiftfs);

        Assert.Equal((method, usable), (choice.Method, choice.Usable));
    }

    [Fact]
    public void AutoWithoutShiftfsSaysWhyAndPointsToTheReadme() =>
        Assert.Equal("this kernel has no shiftfs filesystem; the upstream workspacekit needs shiftfs, see README",
            FsShiftChoice.Decide(FsShiftMode.Auto, kernelHasShiftfs: false).Reason);

    [Fact]
    public void TheKernelsFilesystemsAreReadByWholeName()
    {
        using var proc = new TempDirectory();
        File.WriteAllText(proc.Combine("filesystems"), "nodev\tsysfs\nnodev\tshiftfsx\n\text4\nnodev\tshiftfs\n");
        Assert.True(KernelFilesystems.Has(proc.Path, "shiftfs"));
        Assert.True(KernelFilesystems.Has(proc.Path, "ext4"));

        File.WriteAllText(proc.Combine("filesystems"), "nodev\tsysfs\nnodev\tshiftfsx\n\text4\n");
        Assert.False(KernelFilesystems.Has(proc.Path, "shiftfs"));
        Assert.False(KernelFilesystems.Has(proc.Path, "nodev"));
    }
}
