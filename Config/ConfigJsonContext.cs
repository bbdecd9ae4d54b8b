using System.Text.Json;
using System.Text.Json.Serialization;

namespace Wsd.Config;

/// <summary>
/// Source-generated JSON metadata for the configuration (no reflection under Native AOT). Unknown
/// keys are refused so that a misspelt setting is an error, not a silently ignored default.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(WsdConfig))]
internal sealed partial class ConfigJsonContext : JsonSerializerContext;
