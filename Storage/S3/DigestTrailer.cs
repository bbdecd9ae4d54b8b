using System.Globalization;
using System.Text;

namespace Wsd.Storage.S3;

/// <summary>
/// The SHA-256 of a multipart object, carried in its own last 512 bytes (docs/storage-publishing.md).
/// A multipart upload's metadata is fixed when it starts, before the digest is known; a trailer is
/// written with the last part, so the object appears, on completion, already bound to its digest.
/// The block follows the tar's end-of-archive marker, where GNU tar, bsdtar, Python's tarfile and
/// Go's archive/tar stop reading; wsd reads the object without it.
/// <code>wsd-digest-v1 sha256:&lt;64 hex&gt; length:&lt;bytes before the trailer&gt;\n</code>, then zeros.
/// </summary>
static class DigestTrailer
{
    public const int Size = 512;
    const string Magic = "wsd-digest-v1 sha256:";

    public static byte[] Build(string sha256, long length)
    {
        if (sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigit))
            throw new ArgumentException($"'{sha256}' is not a hex SHA-256", nameof(sha256));
        var block = new byte[Size];
        Encoding.ASCII.GetBytes($"{Magic}{sha256.ToLowerInvariant()} length:{length.ToString(CultureInfo.InvariantCulture)}\n", block);
        return block;
    }

    /// <summary>
    /// The digest a trailer block records, when <paramref name="block"/> is one written for an object
    /// of <paramref name="objectLength"/> bytes; false for any other block.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> block, long objectLength, out string sha256)
    {
        sha256 = "";
        if (block.Length != Size)
            return false;
        int end = block.IndexOf((byte)'\n');
        if (end < 0 || block[(end + 1)..].ContainsAnyExcept((byte)0))
            return false;
        string text = Encoding.ASCII.GetString(block[..end]);
        if (!text.StartsWith(Magic, StringComparison.Ordinal))
            return false;
        string[] fields = text[Magic.Length..].Split(" length:");
        if (fields is not [var hex, var length] || hex.Length != 64 || !hex.All(char.IsAsciiHexDigit) ||
            !long.TryParse(length, NumberStyles.None, CultureInfo.InvariantCulture, out long covered) || covered != objectLength - Size)
            return false;
        sha256 = hex;
        return true;
    }
}
