using System.Text.Json.Serialization;

namespace Wsd.Config;

/// <summary>
/// <c>runtime.fsShift</c>: how PrepareForUserNS shifts a workspace's root to its user namespace.
/// <see cref="Auto"/> picks shiftfs where the kernel has it, because the upstream workspacekit
/// knows no other method, and ID-mapped mounts elsewhere (README, "In-workspace service").
/// </summary>
[JsonConverter(typeof(FsShiftModeJsonConverter))]
public enum FsShiftMode { Auto, Idmapped, Shiftfs }

public sealed class FsShiftModeJsonConverter()
    : ChoiceJsonConverter<FsShiftMode>(("auto", FsShiftMode.Auto), ("idmapped", FsShiftMode.Idmapped), ("shiftfs", FsShiftMode.Shiftfs))
{
    public static FsShiftModeJsonConverter Instance { get; } = new();
}
