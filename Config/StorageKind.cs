using System.Text.Json.Serialization;

namespace Wsd.Config;

/// <summary><c>content.storage.kind</c>: where backups and snapshots are kept.</summary>
[JsonConverter(typeof(StorageKindJsonConverter))]
public enum StorageKind
{
    /// <summary>Objects as files under <c>content.storage.local.root</c>, the embedded default.</summary>
    Local,
    /// <summary>Any S3-compatible service.</summary>
    S3,
}

public sealed class StorageKindJsonConverter() : ChoiceJsonConverter<StorageKind>(("local", StorageKind.Local), ("s3", StorageKind.S3));
