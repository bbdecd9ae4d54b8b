using Amazon.S3.Model;

namespace Wsd.Storage.S3;

/// <summary>
/// The archive's SHA-256 as user metadata on the object, under the names the upstream daemon used
/// (docs/compatibility.md#object-metadata: <c>gitpod-digest</c> and <c>gitpod-uncompressedDigest</c>,
/// both the tar's digest as <c>sha256:&lt;hex&gt;</c>), so objects written by either daemon verify on
/// restore by the other and tools that read those headers keep working. wsd's backups are plain tar, so
/// the two agree.
/// </summary>
static class DigestMetadata
{
    const string Digest = "gitpod-digest";
    const string UncompressedDigest = "gitpod-uncompressedDigest";
    const string Prefix = "sha256:";

    /// <summary>Set when a multipart upload starts: the digest is in the object's <see cref="DigestTrailer"/>.</summary>
    const string Trailer = "wsd-digest", TrailerValue = "trailer-v1";

    public static void MarkTrailer(MetadataCollection metadata) => metadata.Add(Trailer, TrailerValue);

    public static bool HasTrailer(MetadataCollection metadata) => Find(metadata, Trailer) == TrailerValue;

    public static void Apply(MetadataCollection metadata, string sha256)
    {
        metadata.Add(Digest, Prefix + sha256);
        metadata.Add(UncompressedDigest, Prefix + sha256);
    }

    /// <summary>The hex SHA-256 recorded on the object; null when none is, or it uses another algorithm.</summary>
    public static string? Read(MetadataCollection metadata) =>
        Find(metadata, Digest) is { } value && value.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) && value.Length == Prefix.Length + 64
            ? value[Prefix.Length..]
            : null;

    static string? Find(MetadataCollection metadata, string name)
    {
        foreach (string key in metadata.Keys)
        {
            if (key.Equals(name, StringComparison.OrdinalIgnoreCase) || key.Equals("x-amz-meta-" + name, StringComparison.OrdinalIgnoreCase))
                return metadata[key];
        }
        return null;
    }
}
