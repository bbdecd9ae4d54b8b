using System.Buffers.Text;
using System.Text;

namespace Wsd.Archive;

/// <summary>
/// The values a PAX extended header ('x') sets for the member that follows it. Records are
/// "&lt;length&gt; key=value\n"; a record whose length does not add up is corrupt, not skipped.
/// </summary>
sealed class PaxHeader
{
    public byte[]? Path;
    public byte[]? LinkPath;
    public long? Size;
    public long? Uid;
    public long? Gid;
    public long? MtimeSeconds;
    public int MtimeNanoseconds;
    public uint? DevMajor;
    public uint? DevMinor;
    public readonly List<KeyValuePair<string, byte[]>> Xattrs = [];
    // GNU sparse extensions (PAX formats 0.1 and 1.0).
    public int SparseMajor = -1;
    public byte[]? SparseName;
    public long? SparseRealSize;
    public byte[]? SparseMap;

    public bool IsEmpty => Path is null && LinkPath is null && Size is null && Uid is null && Gid is null &&
        MtimeSeconds is null && DevMajor is null && DevMinor is null && Xattrs.Count == 0 && SparseMajor < 0 &&
        SparseName is null && SparseRealSize is null && SparseMap is null;

    public void Reset()
    {
        Path = LinkPath = SparseName = SparseMap = null;
        Size = Uid = Gid = MtimeSeconds = SparseRealSize = null;
        MtimeNanoseconds = 0;
        DevMajor = DevMinor = null;
        Xattrs.Clear();
        SparseMajor = -1;
    }

    public void Parse(ReadOnlySpan<byte> data, long offset)
    {
        while (!data.IsEmpty)
        {
            if (data.Length == 1 && data[0] == 0)
                break; // some writers pad the records with a NUL
            int space = data.IndexOf((byte)' ');
            if (space <= 0 || !Utf8Parser.TryParse(data[..space], out int length, out int used) || used != space ||
                length <= space + 2 || length > data.Length || data[length - 1] != '\n')
                throw new ArchiveException("corrupt PAX extended header record", offset);
            var record = data[(space + 1)..(length - 1)];
            data = data[length..];
            int equals = record.IndexOf((byte)'=');
            if (equals <= 0)
                throw new ArchiveException("PAX record without '='", offset);
            Apply(record[..equals], record[(equals + 1)..], offset);
        }
    }

    void Apply(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long offset)
    {
        if (key.SequenceEqual("path"u8))
            Path = value.ToArray();
        else if (key.SequenceEqual("linkpath"u8))
            LinkPath = value.ToArray();
        else if (key.SequenceEqual("size"u8))
            Size = Number(value, key, offset);
        else if (key.SequenceEqual("uid"u8))
            Uid = Number(value, key, offset);
        else if (key.SequenceEqual("gid"u8))
            Gid = Number(value, key, offset);
        else if (key.SequenceEqual("mtime"u8))
            ParseTime(value, offset);
        else if (key.SequenceEqual("SCHILY.devmajor"u8))
            DevMajor = (uint)Math.Min(Number(value, key, offset), uint.MaxValue);
        else if (key.SequenceEqual("SCHILY.devminor"u8))
            DevMinor = (uint)Math.Min(Number(value, key, offset), uint.MaxValue);
        else if (key.StartsWith("SCHILY.xattr."u8))
            Xattrs.Add(new(Encoding.UTF8.GetString(key["SCHILY.xattr."u8.Length..]), value.ToArray()));
        else if (key.SequenceEqual("GNU.sparse.major"u8))
            SparseMajor = (int)Number(value, key, offset);
        else if (key.SequenceEqual("GNU.sparse.name"u8))
            SparseName = value.ToArray();
        else if (key.SequenceEqual("GNU.sparse.realsize"u8) || key.SequenceEqual("GNU.sparse.size"u8))
            SparseRealSize = Number(value, key, offset);
        else if (key.SequenceEqual("GNU.sparse.map"u8))
            SparseMap = value.ToArray();
        // Everything else (atime, ctime, uname, gname, charset, comments, vendor keys) does not
        // change what is restored.
    }

    static long Number(ReadOnlySpan<byte> value, ReadOnlySpan<byte> key, long offset)
    {
        if (!Utf8Parser.TryParse(value, out long number, out int used) || used != value.Length || number < 0)
            throw new ArchiveException($"PAX record {Encoding.UTF8.GetString(key)} is not a non-negative number", offset);
        return number;
    }

    void ParseTime(ReadOnlySpan<byte> value, long offset)
    {
        bool negative = value.StartsWith("-"u8);
        var digits = negative ? value[1..] : value;
        int dot = digits.IndexOf((byte)'.');
        var whole = dot < 0 ? digits : digits[..dot];
        if (!Utf8Parser.TryParse(whole, out long seconds, out int used) || used != whole.Length)
            throw new ArchiveException("PAX mtime is not a number", offset);
        long nanoseconds = 0;
        if (dot >= 0)
        {
            var fraction = digits[(dot + 1)..];
            for (int i = 0; i < 9; i++)
            {
                byte c = i < fraction.Length ? fraction[i] : (byte)'0';
                if (c < '0' || c > '9')
                    throw new ArchiveException("PAX mtime is not a number", offset);
                nanoseconds = nanoseconds * 10 + (c - '0');
            }
        }
        if (negative && nanoseconds > 0)
        {
            seconds = -seconds - 1;
            nanoseconds = 1_000_000_000 - nanoseconds;
        }
        else if (negative)
        {
            seconds = -seconds;
        }
        MtimeSeconds = seconds;
        MtimeNanoseconds = (int)nanoseconds;
    }
}
