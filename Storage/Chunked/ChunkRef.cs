using System.Buffers.Binary;
using Wsd.Errors;

namespace Wsd.Storage.Chunked;

/// <summary>
/// A chunk and where it is stored: a recipe names each chunk this way, so a restore reads byte
/// ranges of packs with no index (docs/chunked-backups.md, "Storage layout"). Packs never
/// change and are deleted only whole, so a location stays true for as long as a recipe needs it.
/// </summary>
public readonly record struct ChunkRef(ChunkId Pack, PackEntry Entry)
{
    /// <summary>chunk ID (32) | pack (32) | offset u64 | stored u32 | plain u32 | flags u8 | zeros (7), big-endian.</summary>
    public const int Size = 88;

    public void Write(Span<byte> destination)
    {
        destination[..Size].Clear();
        Entry.Id.Write(destination);
        Pack.Write(destination[32..]);
        BinaryPrimitives.WriteInt64BigEndian(destination[64..], Entry.Offset);
        BinaryPrimitives.WriteInt32BigEndian(destination[72..], Entry.StoredLength);
        BinaryPrimitives.WriteInt32BigEndian(destination[76..], Entry.PlainLength);
        destination[80] = Entry.Compressed ? PackFormat.Zstd : (byte)0;
    }

    /// <summary>The references a recipe's bytes hold, each checked for sense (the chunk itself is checked when read).</summary>
    public static ChunkRef[] ReadAll(ReadOnlySpan<byte> recipe, string name)
    {
        if (recipe.Length % Size != 0)
            throw new WsdException(ErrorCode.DataLoss, $"{name} is damaged: its recipe is {recipe.Length} bytes, not a whole number of {Size}-byte entries");
        var refs = new ChunkRef[recipe.Length / Size];
        for (int i = 0; i < refs.Length; i++)
        {
            var at = recipe.Slice(i * Size, Size);
            long offset = BinaryPrimitives.ReadInt64BigEndian(at[64..]);
            int stored = BinaryPrimitives.ReadInt32BigEndian(at[72..]);
            int plain = BinaryPrimitives.ReadInt32BigEndian(at[76..]);
            byte flags = at[80];
            if (!PackFormat.IsPossibleEntry(offset, stored, plain, flags))
                throw new WsdException(ErrorCode.DataLoss, $"{name} is damaged: its recipe entry {i} (offset {offset}, {stored} bytes stored, {plain} plain, flags {flags}) is impossible");
            refs[i] = new ChunkRef(ChunkId.Read(at[32..]), new PackEntry(ChunkId.Read(at), offset, stored, plain, flags == PackFormat.Zstd));
        }
        return refs;
    }
}
