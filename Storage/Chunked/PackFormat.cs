namespace Wsd.Storage.Chunked;

/// <summary>
/// The layout of a pack object, every number in one place (docs/chunked-backups.md, "Storage layout
/// (planned)"). A pack is its chunks' stored bytes back to back, then a table with one entry per
/// chunk, then a footer:
/// <code>
/// entry  (56 bytes): chunk ID (32) | offset u64 | stored length u32 | plain length u32 | flags u8 | zeros (7)
/// footer (64 bytes): "wsd-pack-v1\0" (12) | entry count u32 | table offset u64 | SHA-256 of the table (32) | zeros (8)
/// </code>
/// Integers are big-endian. The table is found from the end, so a reader needs no index to open a
/// pack, and the index of a store can always be rebuilt from its packs.
/// </summary>
public static class PackFormat
{
    public static ReadOnlySpan<byte> Magic => "wsd-pack-v1\0"u8;

    public const int EntrySize = 56;
    public const int FooterSize = 64;

    /// <summary>Flag: the stored bytes are one zstd frame.</summary>
    public const byte Zstd = 1;

    /// <summary>The largest chunk a pack may hold: the chunker's largest, with room to spare.</summary>
    public const int MaxChunkBytes = 16 << 20;

    /// <summary>The most entries one pack may list: far more than a pack's target size allows, far fewer than would cost memory.</summary>
    public const int MaxEntries = 1 << 20;

    /// <summary>
    /// A whole pack's name: the SHA-256 of its table and footer. The table names every chunk by the
    /// SHA-256 of its bytes, with its place and sizes, so two packs share a name only when they hold the
    /// same chunks in the same places, and either serves every reference to it. Hashing the table,
    /// not the whole pack, spares a second pass over every byte a backup stores (each chunk is
    /// checked against its ID when read).
    /// </summary>
    public static ChunkId NameOf(ReadOnlySpan<byte> pack)
    {
        long tableOffset = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(pack[^FooterSize..][16..]);
        return ChunkId.Of(pack[(int)tableOffset..]);
    }

    /// <summary>
    /// Whether a chunk's recorded place and sizes can be true, wherever they were read (a pack's
    /// table, a recipe, a manifest): never negative, no larger than a chunk may be, known flags, and
    /// a plain chunk stored as it is. Its bytes are checked against its ID when read.
    /// </summary>
    public static bool IsPossibleEntry(long offset, long stored, long plain, byte flags) =>
        offset >= 0 && flags <= Zstd && plain is >= 0 and <= MaxChunkBytes
        && stored >= 0 && stored <= ZstdSharp.Compressor.GetCompressBound(MaxChunkBytes) && (flags == Zstd || stored == plain);
}
