namespace Wsd.Config;

/// <summary>
/// <c>runtime.fsShift</c>: how PrepareForUserNS shifts a workspace's root to its user namespace.
/// <see cref="Auto"/> picks shiftfs where the kernel has it, because the upstream workspacekit
/// knows no other method, and ID-mapped mounts elsewhere (README, "In-workspace service").
/// </summary>
public enum FsShiftMode { Auto, Idmapped, Shiftfs }

/// <summary>The configuration's names of <see cref="FsShiftMode"/>, parsed in one place.</summary>
public static class FsShiftModes
{
    public const string Names = "auto, idmapped, shiftfs";

    public static bool TryParse(string text, out FsShiftMode mode)
    {
        (bool known, mode) = text switch
        {
            "auto" => (true, FsShiftMode.Auto),
            "idmapped" => (true, FsShiftMode.Idmapped),
            "shiftfs" => (true, FsShiftMode.Shiftfs),
            _ => (false, FsShiftMode.Auto),
        };
        return known;
    }

    /// <summary>The mode of a configuration that passed <see cref="ConfigValidator"/>.</summary>
    public static FsShiftMode Parse(string text) =>
        TryParse(text, out var mode) ? mode : throw new ConfigException($"runtime.fsShift: '{text}' is not one of {Names}");
}
