using Wsd.Config;

namespace Wsd.Workspaces.InWorkspace;

/// <summary>
/// The one <see cref="FsShift"/> PrepareForUserNS uses on this node, decided once at start from
/// <c>runtime.fsShift</c> and the kernel. The upstream workspacekit knows only shiftfs, so
/// <c>auto</c> takes shiftfs wherever the kernel has it (README, "In-workspace service").
/// </summary>
public sealed record FsShiftChoice(FsShiftMode Mode, FsShift Method, bool KernelHasShiftfs)
{
    /// <summary>The choice for <paramref name="mode"/> on the kernel whose proc is mounted at <paramref name="proc"/>.</summary>
    public static FsShiftChoice ForKernel(FsShiftMode mode, string proc) => Decide(mode, Linux.KernelFilesystems.Has(proc, "shiftfs"));

    public static FsShiftChoice Decide(FsShiftMode mode, bool kernelHasShiftfs) => new(mode, mode switch
    {
        FsShiftMode.Idmapped => FsShift.Idmapped,
        FsShiftMode.Shiftfs => FsShift.Shiftfs,
        _ => kernelHasShiftfs ? FsShift.Shiftfs : FsShift.Idmapped,
    }, kernelHasShiftfs);

    /// <summary>False where shiftfs was configured on a kernel without it: every PrepareForUserNS will fail.</summary>
    public bool Usable => Method == FsShift.Idmapped || KernelHasShiftfs;

    /// <summary>Why this method, for the one start-up log line.</summary>
    public string Reason => (Mode, KernelHasShiftfs) switch
    {
        (FsShiftMode.Auto, true) => "this kernel has the shiftfs filesystem, which every workspacekit supports",
        (FsShiftMode.Auto, false) => "this kernel has no shiftfs filesystem; the upstream workspacekit needs shiftfs, see README",
        (FsShiftMode.Shiftfs, false) => "configured, but this kernel has no shiftfs filesystem: PrepareForUserNS fails until it is loaded",
        _ => "configured",
    };

    /// <summary>The configuration's names of the mode and the method.</summary>
    public string ModeName => FsShiftModeJsonConverter.Instance.NameOf(Mode);
    public string MethodName => Method == FsShift.Shiftfs ? "shiftfs" : "idmapped";
}
