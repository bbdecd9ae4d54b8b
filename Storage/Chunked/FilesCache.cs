using System.Buffers.Binary;
using System.Security.Cryptography;
using Wsd.Archive;

namespace Wsd.Storage.Chunked;

/// <summary>
/// What one workspace's last chunked backup learned of its large files: for each file's identity
/// (device, inode, size, mtime, ctime), the chunks that hold its data (docs/chunked-backups.md,
/// "Files cache"). The next backup of the same workspace names those chunks instead of reading a
/// file whose identity is unchanged. It lives on the node beside the workspace, never inside it,
/// and is a hint: one that cannot be read is no cache, never an error.
/// </summary>
/// <remarks>
/// Layout: "wsd-files-v1\n" and three zero bytes | entry count u32 | entries | SHA-256 of all before
/// it. An entry: device major u32 | minor u32 | inode u64 | size i64 | mtime ns i64 | ctime ns i64 |
/// chunk count u32 | that many <see cref="ChunkRef"/>s. Integers are big-endian.
/// </remarks>
public sealed class FilesCache
{
    static ReadOnlySpan<byte> Magic => "wsd-files-v1\n\0\0\0"u8;
    const int EntryHeaderSize = 4 + 4 + 8 + 8 + 8 + 8 + 4;

    /// <summary>
    /// Files remembered at most: memory stays bounded whatever the workspace holds. Files past
    /// the bound are read each time, as without a cache.
    /// </summary>
    public const int MaxFiles = 1 << 17;

    /// <summary>Chunks remembered at most, over all files: with the files, about 35 MiB at the most.</summary>
    public const int MaxChunks = 1 << 18;

    readonly Dictionary<FileIdentity, ChunkRef[]> _files;

    FilesCache(Dictionary<FileIdentity, ChunkRef[]> files) => _files = files;

    public static FilesCache Empty { get; } = new([]);

    public int Count => _files.Count;

    public IEnumerable<KeyValuePair<FileIdentity, ChunkRef[]>> Files => _files;

    public bool TryGet(in FileIdentity file, out ChunkRef[] chunks) => _files.TryGetValue(file, out chunks!);

    /// <summary>
    /// A cache of the given files, those that may be trusted: a file changed within a second of
    /// <paramref name="backupStartedNanoseconds"/> (Unix time) could change again within its
    /// ctime's tick without moving it, so it is left out and read again next time.
    /// </summary>
    public static FilesCache Of(IEnumerable<(FileIdentity File, ChunkRef[] Chunks)> files, long backupStartedNanoseconds)
    {
        var kept = new Dictionary<FileIdentity, ChunkRef[]>();
        long chunks = 0;
        foreach (var (file, refs) in files)
        {
            if (file.CtimeNanoseconds >= backupStartedNanoseconds - 1_000_000_000 || kept.Count == MaxFiles || chunks + refs.Length > MaxChunks)
                continue;
            kept[file] = refs;
            chunks += refs.Length;
        }
        return new FilesCache(kept);
    }

    public byte[] ToBytes()
    {
        long length = Magic.Length + 4 + _files.Sum(f => EntryHeaderSize + (long)f.Value.Length * ChunkRef.Size) + 32;
        var bytes = new byte[length];
        var at = bytes.AsSpan();
        Magic.CopyTo(at);
        BinaryPrimitives.WriteInt32BigEndian(at[Magic.Length..], _files.Count);
        int offset = Magic.Length + 4;
        foreach (var (file, refs) in _files)
        {
            var entry = at[offset..];
            BinaryPrimitives.WriteUInt32BigEndian(entry, file.DeviceMajor);
            BinaryPrimitives.WriteUInt32BigEndian(entry[4..], file.DeviceMinor);
            BinaryPrimitives.WriteUInt64BigEndian(entry[8..], file.Inode);
            BinaryPrimitives.WriteInt64BigEndian(entry[16..], file.Size);
            BinaryPrimitives.WriteInt64BigEndian(entry[24..], file.MtimeNanoseconds);
            BinaryPrimitives.WriteInt64BigEndian(entry[32..], file.CtimeNanoseconds);
            BinaryPrimitives.WriteInt32BigEndian(entry[40..], refs.Length);
            offset += EntryHeaderSize;
            foreach (var chunk in refs)
            {
                chunk.Write(at[offset..]);
                offset += ChunkRef.Size;
            }
        }
        SHA256.HashData(at[..offset], at[offset..]);
        return bytes;
    }

    /// <summary>The cache in <paramref name="bytes"/>; null, with the reason, when they are not a whole, sound cache.</summary>
    public static FilesCache? Parse(ReadOnlySpan<byte> bytes, out string? problem)
    {
        problem = null;
        if (bytes.Length < Magic.Length + 4 + 32 || !bytes[..Magic.Length].SequenceEqual(Magic))
            return Fail("it is not a files cache", out problem);
        var body = bytes[..^32];
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(body, digest);
        if (!digest.SequenceEqual(bytes[^32..]))
            return Fail("its checksum does not match (a torn or damaged write)", out problem);
        int count = BinaryPrimitives.ReadInt32BigEndian(body[Magic.Length..]);
        if (count is < 0 or > MaxFiles)
            return Fail($"it lists {count} files, more than {MaxFiles}", out problem);
        var files = new Dictionary<FileIdentity, ChunkRef[]>(count);
        int offset = Magic.Length + 4;
        long chunks = 0;
        for (int i = 0; i < count; i++)
        {
            if (body.Length - offset < EntryHeaderSize)
                return Fail($"it ends inside entry {i}", out problem);
            var entry = body[offset..];
            var file = new FileIdentity(BinaryPrimitives.ReadUInt32BigEndian(entry), BinaryPrimitives.ReadUInt32BigEndian(entry[4..]),
                BinaryPrimitives.ReadUInt64BigEndian(entry[8..]), BinaryPrimitives.ReadInt64BigEndian(entry[16..]),
                BinaryPrimitives.ReadInt64BigEndian(entry[24..]), BinaryPrimitives.ReadInt64BigEndian(entry[32..]));
            int refs = BinaryPrimitives.ReadInt32BigEndian(entry[40..]);
            offset += EntryHeaderSize;
            chunks += refs;
            if (refs < 0 || chunks > MaxChunks || (long)refs * ChunkRef.Size > body.Length - offset)
                return Fail($"entry {i} lists {refs} chunks, which do not fit", out problem);
            ChunkRef[] read;
            try
            {
                read = ChunkRef.ReadAll(body.Slice(offset, refs * ChunkRef.Size), "the files cache");
            }
            catch (Errors.WsdException e)
            {
                return Fail(e.Message, out problem);
            }
            if (read.Sum(r => (long)r.Entry.PlainLength) != file.Size || !files.TryAdd(file, read))
                return Fail($"entry {i} does not add up to its file", out problem);
            offset += refs * ChunkRef.Size;
        }
        return offset == body.Length ? new FilesCache(files) : Fail("it has bytes after its last entry", out problem);
    }

    static FilesCache? Fail(string why, out string problem)
    {
        problem = why;
        return null;
    }
}
