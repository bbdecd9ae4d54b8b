using System.Buffers.Binary;
using System.Security.Cryptography;
using Wsd.Errors;
using ZstdSharp;

namespace Wsd.Storage.Chunked;

/// <summary>
/// Reads what <see cref="PackWriter"/> wrote, trusting none of it: the footer and the table are
/// checked against the pack's length and the table's own SHA-256, and every chunk against its ID,
/// so a damaged or forged pack is <c>DATA_LOSS</c> naming it, never wrong bytes or a huge allocation.
/// </summary>
public static class PackReader
{
    /// <summary>What the footer says: how many entries, and where the table starts.</summary>
    public readonly record struct Footer(int Count, long TableOffset, byte[] TableSha256)
    {
        public int TableLength => Count * PackFormat.EntrySize;
    }

    /// <param name="footer">The pack's last <see cref="PackFormat.FooterSize"/> bytes.</param>
    public static Footer ReadFooter(ReadOnlySpan<byte> footer, long packLength, string pack)
    {
        if (footer.Length != PackFormat.FooterSize || packLength < PackFormat.FooterSize || !footer[..12].SequenceEqual(PackFormat.Magic))
            throw Damaged(pack, "it does not end with a pack footer");
        int count = BinaryPrimitives.ReadInt32BigEndian(footer[12..]);
        long tableOffset = BinaryPrimitives.ReadInt64BigEndian(footer[16..]);
        if (count is < 0 or > PackFormat.MaxEntries || tableOffset < 0
            || tableOffset + (long)count * PackFormat.EntrySize + PackFormat.FooterSize != packLength)
            throw Damaged(pack, $"its footer lists {count} entries from offset {tableOffset}, which does not fit its {packLength} bytes");
        return new Footer(count, tableOffset, footer[24..56].ToArray());
    }

    public static PackEntry[] ReadTable(ReadOnlySpan<byte> table, Footer footer, string pack)
    {
        Span<byte> digest = stackalloc byte[32];
        if (table.Length != footer.TableLength || !SHA256.TryHashData(table, digest, out _) || !digest.SequenceEqual(footer.TableSha256))
            throw Damaged(pack, "its table does not match the SHA-256 its footer records");
        var entries = new PackEntry[footer.Count];
        for (int i = 0; i < entries.Length; i++)
        {
            var at = table.Slice(i * PackFormat.EntrySize, PackFormat.EntrySize);
            long offset = BinaryPrimitives.ReadInt64BigEndian(at[32..]);
            int stored = BinaryPrimitives.ReadInt32BigEndian(at[40..]);
            int plain = BinaryPrimitives.ReadInt32BigEndian(at[44..]);
            byte flags = at[48];
            if (!PackFormat.IsPossibleEntry(offset, stored, plain, flags) || offset + stored > footer.TableOffset)
                throw Damaged(pack, $"its entry {i} (offset {offset}, {stored} bytes stored, {plain} plain, flags {flags}) is impossible");
            entries[i] = new PackEntry(ChunkId.Read(at), offset, stored, plain, flags == PackFormat.Zstd);
        }
        return entries;
    }

    /// <summary>
    /// The plain bytes of <paramref name="entry"/> from its stored bytes, checked against its ID: a
    /// chunk stored plain is checked where it lies and answered as it is, not copied; a compressed
    /// one is decompressed into <paramref name="plainDestination"/> when that has room, else into a
    /// new array.
    /// </summary>
    public static ReadOnlyMemory<byte> ReadChunk(PackEntry entry, ReadOnlyMemory<byte> stored, string pack, Memory<byte> plainDestination = default)
    {
        if (stored.Length != entry.StoredLength)
            throw Damaged(pack, $"chunk {entry.Id} came back with {stored.Length} bytes, not {entry.StoredLength}");
        ReadOnlyMemory<byte> plain;
        if (entry.Compressed)
        {
            var decompressed = plainDestination.Length >= entry.PlainLength ? plainDestination[..entry.PlainLength] : new byte[entry.PlainLength];
            plain = decompressed;
            int n;
            try
            {
                // One decompressor per thread: a restore decompresses tens of thousands of chunks on a few workers.
                t_decompressor ??= new Decompressor();
                n = t_decompressor.Unwrap(stored.Span, decompressed.Span);
            }
            catch (ZstdException e)
            {
                throw Damaged(pack, $"chunk {entry.Id} does not decompress ({e.Message})");
            }
            if (n != entry.PlainLength)
                throw Damaged(pack, $"chunk {entry.Id} decompresses to {n} bytes, not {entry.PlainLength}");
        }
        else
        {
            plain = stored;
        }
        if (ChunkId.Of(plain.Span) != entry.Id)
            throw Damaged(pack, $"chunk {entry.Id} does not match its SHA-256");
        return plain;
    }

    [ThreadStatic]
    static Decompressor? t_decompressor;

    static WsdException Damaged(string pack, string why) => new(ErrorCode.DataLoss, $"pack {pack} is damaged: {why}");
}
