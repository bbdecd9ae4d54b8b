using System.Text.Json.Serialization;

namespace Wsd.Config;

/// <summary><c>content.backup.format</c>: how backups and snapshots are stored (docs/chunked-backups.md).</summary>
[JsonConverter(typeof(BackupFormatJsonConverter))]
public enum BackupFormat
{
    /// <summary>One tar archive per object, as upstream and its tools read it.</summary>
    Tar,
    /// <summary>A manifest naming deduplicated chunks in packs under the owner's prefix.</summary>
    Chunked,
}

public sealed class BackupFormatJsonConverter() : ChoiceJsonConverter<BackupFormat>(("tar", BackupFormat.Tar), ("chunked", BackupFormat.Chunked));
