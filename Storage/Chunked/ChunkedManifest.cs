using System.Globalization;
using System.Text;
using Wsd.Errors;

namespace Wsd.Storage.Chunked;

/// <summary>
/// The object under a chunked backup's name (docs/chunked-backups.md, "Storage layout"):
/// a short text naming the chunks of the recipe, which in turn names the chunks of the tar stream.
/// It opens with a fixed preamble, which is how a restore tells it from a tar archive: the preamble
/// puts letters where a tar header keeps its octal checksum (bytes 148-155), so no tar archive can
/// begin with it. Parsing trusts nothing: any deviation is <c>DATA_LOSS</c> naming what is wrong.
/// </summary>
public sealed record ChunkedManifest(long StreamLength, IReadOnlyList<ChunkRef> Recipe)
{
    /// <summary>The most bytes a manifest may have: far more than the largest recipe list needs, and a bound on what a read of one buffers.</summary>
    public const int MaxBytes = 64 << 20;

    /// <summary>The most recipe chunks a manifest may name: a recipe of 64 GiB, far beyond any workspace's.</summary>
    public const int MaxRecipeChunks = 1 << 20;

    static readonly byte[] PreambleBytes = Encoding.ASCII.GetBytes(
        "wsd-chunked-v1\n" +
        "# A wsd chunked backup, not a tar archive. Its chunks are packs under <owner>/chunks/;\n" +
        "# wsd archive can show it and write it out as the tar archive it stands for.\n");

    /// <summary>Every manifest's first bytes.</summary>
    public static ReadOnlySpan<byte> Preamble => PreambleBytes;

    /// <summary>Whether an object whose first bytes are <paramref name="head"/> is a manifest (give it at least <see cref="Preamble"/>'s length).</summary>
    public static bool IsManifest(ReadOnlySpan<byte> head) => head.StartsWith(Preamble);

    public byte[] ToBytes()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"length {StreamLength}\n");
        foreach (var (pack, entry) in Recipe)
            text.Append(CultureInfo.InvariantCulture,
                $"recipe {entry.Id} {pack} {entry.Offset} {entry.StoredLength} {entry.PlainLength} {(entry.Compressed ? "zstd" : "plain")}\n");
        return [.. Preamble, .. Encoding.ASCII.GetBytes(text.ToString())];
    }

    /// <param name="name">The object, for messages.</param>
    public static ChunkedManifest Parse(ReadOnlySpan<byte> bytes, string name)
    {
        if (!IsManifest(bytes))
            throw Damaged(name, "it does not start with the wsd-chunked-v1 preamble");
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes[Preamble.Length..]);
        }
        catch (DecoderFallbackException)
        {
            throw Damaged(name, "it is not text");
        }
        if (!text.EndsWith('\n'))
            throw Damaged(name, "its last line is cut short");
        string[] lines = text[..^1].Split('\n');
        if (lines.Length - 1 > MaxRecipeChunks)
            throw Damaged(name, $"it names more than {MaxRecipeChunks} recipe chunks");
        long length = lines[0].StartsWith("length ", StringComparison.Ordinal)
            && long.TryParse(lines[0].AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out long parsed) ? parsed
            : throw Damaged(name, $"line 4 is \"{Shown(lines[0])}\", not \"length <bytes>\"");
        var recipe = new ChunkRef[lines.Length - 1];
        for (int i = 1; i < lines.Length; i++)
        {
            string[] words = lines[i].Split(' ');
            if (words is not ["recipe", { Length: 64 } id, { Length: 64 } pack, var offset, var stored, var plain, "zstd" or "plain"]
                || !IsLowerHex(id) || !IsLowerHex(pack) || !Number(offset, out long at) || !Number(stored, out long storedLength)
                || !Number(plain, out long plainLength)
                || !PackFormat.IsPossibleEntry(at, storedLength, plainLength, words[6] == "zstd" ? PackFormat.Zstd : (byte)0))
                throw Damaged(name, $"line {i + 4} is \"{Shown(lines[i])}\", not \"recipe <chunk sha256> <pack sha256> <offset> <stored bytes> <plain bytes> zstd|plain\"");
            recipe[i - 1] = new ChunkRef(ChunkId.Read(Convert.FromHexString(pack)),
                new PackEntry(ChunkId.Read(Convert.FromHexString(id)), at, (int)storedLength, (int)plainLength, words[6] == "zstd"));
        }
        return new ChunkedManifest(length, recipe);
    }

    static bool Number(string s, out long value) => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    static bool IsLowerHex(string s) => s.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    // Hostile lines are shown short and printable.
    static string Shown(string line) => new(line.Take(80).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    static WsdException Damaged(string name, string why) => new(ErrorCode.DataLoss, $"{name} is not a readable chunked-backup manifest: {why}");
}
