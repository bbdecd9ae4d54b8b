using System.Text.Json.Serialization;
using Wsd.Content.Git;

namespace Wsd.Workspaces;

/// <summary>
/// The persisted session, <c>&lt;area&gt;/&lt;id&gt;.workspace.json</c>, with upstream's keys exactly
/// (docs/compatibility.md#session-file) so operators' tooling keeps reading it. Note the upstream naming:
/// "workspaceID" holds the instance ID and "metaID" the workspace ID.
/// </summary>
public sealed class SessionFile
{
    [JsonPropertyName("location")] public string Location { get; set; } = "";
    [JsonPropertyName("checkoutLocation")] public string CheckoutLocation { get; set; } = "";
    [JsonPropertyName("createdAt")] public DateTime CreatedAt { get; set; }
    [JsonPropertyName("doBackup")] public bool DoBackup { get; set; }
    [JsonPropertyName("doWipe")] public bool DoWipe { get; set; }
    [JsonPropertyName("owner")] public string Owner { get; set; } = "";
    [JsonPropertyName("metaID")] public string MetaId { get; set; } = "";
    [JsonPropertyName("workspaceID")] public string InstanceId { get; set; } = "";
    [JsonPropertyName("lastGitStatus")] public GitStatus? LastGitStatus { get; set; }
    [JsonPropertyName("fullWorkspaceBackup")] public bool FullWorkspaceBackup { get; set; }
    [JsonPropertyName("persistentVolumeClaim")] public bool PersistentVolumeClaim { get; set; }
    [JsonPropertyName("contentManifest")] public byte[]? ContentManifest { get; set; }
    [JsonPropertyName("serviceLocNode")] public string ServiceLocNode { get; set; } = "";
    [JsonPropertyName("serviceLocDaemon")] public string ServiceLocDaemon { get; set; } = "";

    [JsonPropertyName("remoteStorageDisabled")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool RemoteStorageDisabled { get; set; }

    [JsonPropertyName("storageQuota")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long StorageQuota { get; set; }

    [JsonPropertyName("xfsProjectID")] public int XfsProjectId { get; set; }
    [JsonPropertyName("state")] public string State { get; set; } = "initializing";

    /// <summary>wsd's addition: why a session is "failed", for WaitForInit's answer after a restart.</summary>
    [JsonPropertyName("failure")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Failure { get; set; }
}

[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(SessionFile))]
internal sealed partial class SessionJsonContext : JsonSerializerContext;
