using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Wsd.Archive;

/// <summary>
/// Encodes a member's headers: a PAX extended header when ustar cannot say everything (long names,
/// sub-second mtimes, large IDs or sizes, xattrs, sparse files), then the ustar header itself. Sparse
/// files are written in GNU's PAX format 1.0, which GNU tar and bsdtar read: the real name and size
/// in GNU.sparse.* records, a stand-in name in the header, and the map at the start of the data.
/// </summary>
public sealed class TarHeaderWriter
{
    static ReadOnlySpan<byte> PaxHeaderName => "././@PaxHeader"u8;

    byte[] _records = new byte[4096];
    int _recordsLength;
    readonly byte[] _standIn = new byte[TarEntry.MaxNameLength + 1 + TarFormat.SparseStandInDirectory.Length];

    /// <summary>Writes the headers of <paramref name="entry"/> to <paramref name="output"/>; the member's data follows.</summary>
    public void Write(TarOutput output, TarEntry entry)
    {
        _recordsLength = 0;
        var name = entry.NameSpan;
        var linkName = entry.LinkNameSpan;
        if (entry.IsSparse)
        {
            AddRecord("GNU.sparse.major"u8, "1"u8);
            AddRecord("GNU.sparse.minor"u8, "0"u8);
            AddRecord("GNU.sparse.name"u8, name);
            AddNumberRecord("GNU.sparse.realsize"u8, entry.SparseRealSize);
            name = SparseStandIn(name);
        }
        if (name.Length > TarFormat.NameLength)
            AddRecord("path"u8, name);
        if (linkName.Length > TarFormat.LinkNameLength)
            AddRecord("linkpath"u8, linkName);
        if (entry.Uid > TarFormat.MaxOctal(TarFormat.UidLength))
            AddNumberRecord("uid"u8, entry.Uid);
        if (entry.Gid > TarFormat.MaxOctal(TarFormat.GidLength))
            AddNumberRecord("gid"u8, entry.Gid);
        if (entry.Size > TarFormat.MaxOctal(TarFormat.SizeLength))
            AddNumberRecord("size"u8, entry.Size);
        if (entry.MtimeNanoseconds != 0 || entry.MtimeSeconds < 0 || entry.MtimeSeconds > TarFormat.MaxOctal(TarFormat.MtimeLength))
            AddMtimeRecord(entry.MtimeSeconds, entry.MtimeNanoseconds);
        if (entry.DevMajor > TarFormat.MaxOctal(TarFormat.DevMajorLength))
            AddNumberRecord("SCHILY.devmajor"u8, entry.DevMajor);
        if (entry.DevMinor > TarFormat.MaxOctal(TarFormat.DevMinorLength))
            AddNumberRecord("SCHILY.devminor"u8, entry.DevMinor);
        foreach (var (key, value) in entry.Xattrs)
            AddXattrRecord(key, value);

        if (_recordsLength > 0)
        {
            var pax = output.Take(TarFormat.BlockSize);
            pax.Clear();
            PaxHeaderName.CopyTo(pax);
            FillCommon(pax, TarFormat.TypePaxExtended, 0x1A4 /* 0644 */, 0, 0, _recordsLength, Math.Max(0, entry.MtimeSeconds), 0, 0);
            output.Write(_records.AsSpan(0, _recordsLength));
            output.Zeros((int)TarFormat.PaddingOf(_recordsLength));
        }

        var header = output.Take(TarFormat.BlockSize);
        header.Clear();
        name[..Math.Min(name.Length, TarFormat.NameLength)].CopyTo(header[TarFormat.NameOffset..]);
        linkName[..Math.Min(linkName.Length, TarFormat.LinkNameLength)].CopyTo(header[TarFormat.LinkNameOffset..]);
        FillCommon(header, entry.Type, entry.Mode,
            Math.Min(entry.Uid, TarFormat.MaxOctal(TarFormat.UidLength)),
            Math.Min(entry.Gid, TarFormat.MaxOctal(TarFormat.GidLength)),
            entry.Size,
            Math.Clamp(entry.MtimeSeconds, 0, TarFormat.MaxOctal(TarFormat.MtimeLength)),
            Math.Min(entry.DevMajor, (uint)TarFormat.MaxOctal(TarFormat.DevMajorLength)),
            Math.Min(entry.DevMinor, (uint)TarFormat.MaxOctal(TarFormat.DevMinorLength)));
    }

    /// <summary>"dir/GNUSparseFile.0/file": what a tar without sparse support extracts the member as, as GNU tar names it.</summary>
    ReadOnlySpan<byte> SparseStandIn(ReadOnlySpan<byte> name)
    {
        int slash = name.LastIndexOf((byte)'/');
        var directory = name[..(slash + 1)];
        directory.CopyTo(_standIn);
        TarFormat.SparseStandInDirectory.CopyTo(_standIn.AsSpan(directory.Length));
        int length = directory.Length + TarFormat.SparseStandInDirectory.Length;
        name[(slash + 1)..].CopyTo(_standIn.AsSpan(length));
        return _standIn.AsSpan(0, length + name.Length - slash - 1);
    }

    /// <summary>Bytes the PAX 1.0 sparse map of <paramref name="entry"/> takes at the start of its data, padding included.</summary>
    public static long SparseMapSize(TarEntry entry)
    {
        long length = CountDigits(entry.SparseMap.Count) + 1;
        foreach (var (offset, size) in entry.SparseMap)
            length += CountDigits(offset) + 1 + CountDigits(size) + 1;
        return length + TarFormat.PaddingOf(length);
    }

    /// <summary>The map as decimal lines, "count" then "offset" and "length" per region, padded to a block.</summary>
    public static void WriteSparseMap(TarOutput output, TarEntry entry)
    {
        Span<byte> line = stackalloc byte[24];
        long length = WriteLine(output, line, entry.SparseMap.Count);
        foreach (var (offset, size) in entry.SparseMap)
            length += WriteLine(output, line, offset) + WriteLine(output, line, size);
        output.Zeros((int)TarFormat.PaddingOf(length));
    }

    static int WriteLine(TarOutput output, Span<byte> line, long value)
    {
        Utf8Formatter.TryFormat(value, line, out int digits);
        line[digits] = (byte)'\n';
        output.Write(line[..(digits + 1)]);
        return digits + 1;
    }

    static void FillCommon(Span<byte> header, byte type, uint mode, long uid, long gid, long size, long mtime, uint devMajor, uint devMinor)
    {
        TarNumbers.WriteOctal(header.Slice(TarFormat.ModeOffset, TarFormat.ModeLength), mode & 0xFFF);
        TarNumbers.WriteOctal(header.Slice(TarFormat.UidOffset, TarFormat.UidLength), uid);
        TarNumbers.WriteOctal(header.Slice(TarFormat.GidOffset, TarFormat.GidLength), gid);
        TarNumbers.Write(header.Slice(TarFormat.SizeOffset, TarFormat.SizeLength), size);
        TarNumbers.WriteOctal(header.Slice(TarFormat.MtimeOffset, TarFormat.MtimeLength), mtime);
        header[TarFormat.TypeOffset] = type;
        TarFormat.UstarMagic.CopyTo(header[TarFormat.MagicOffset..]);
        TarFormat.UstarVersion.CopyTo(header[TarFormat.VersionOffset..]);
        if (type is TarFormat.TypeCharDevice or TarFormat.TypeBlockDevice)
        {
            TarNumbers.WriteOctal(header.Slice(TarFormat.DevMajorOffset, TarFormat.DevMajorLength), devMajor);
            TarNumbers.WriteOctal(header.Slice(TarFormat.DevMinorOffset, TarFormat.DevMinorLength), devMinor);
        }
        WriteChecksum(header);
    }

    /// <summary>Sums the header with the checksum field as spaces and stores it as six octal digits, NUL, space.</summary>
    public static void WriteChecksum(Span<byte> header)
    {
        int sum = TarChecksum.Unsigned(header);
        var field = header.Slice(TarFormat.ChecksumOffset, TarFormat.ChecksumLength);
        TarNumbers.WriteOctal(field[..7], sum);
        field[7] = (byte)' ';
    }

    void AddNumberRecord(ReadOnlySpan<byte> key, long value)
    {
        Span<byte> digits = stackalloc byte[24];
        Utf8Formatter.TryFormat(value, digits, out int length);
        AddRecord(key, digits[..length]);
    }

    void AddMtimeRecord(long seconds, int nanoseconds)
    {
        Span<byte> text = stackalloc byte[40];
        int length = 0;
        // A negative time with a fraction is written as -(|seconds|-1).(1e9-ns), i.e. seconds + ns/1e9.
        if (seconds < 0 && nanoseconds > 0)
        {
            text[length++] = (byte)'-';
            Utf8Formatter.TryFormat(-(seconds + 1), text[length..], out int n);
            length += n;
            nanoseconds = 1_000_000_000 - nanoseconds;
        }
        else
        {
            Utf8Formatter.TryFormat(seconds, text[length..], out int n);
            length += n;
        }
        if (nanoseconds > 0)
        {
            text[length++] = (byte)'.';
            Utf8Formatter.TryFormat(nanoseconds, text[length..], out int n, new StandardFormat('D', 9));
            length += n;
            while (text[length - 1] == '0')
                length--;
        }
        AddRecord("mtime"u8, text[..length]);
    }

    void AddXattrRecord(string name, byte[] value)
    {
        int nameBytes = Encoding.UTF8.GetByteCount(name);
        Span<byte> key = nameBytes <= 256 ? stackalloc byte[13 + nameBytes] : new byte[13 + nameBytes];
        "SCHILY.xattr."u8.CopyTo(key);
        Encoding.UTF8.GetBytes(name, key[13..]);
        AddRecord(key, value);
    }

    /// <summary>Appends "&lt;length&gt; key=value\n", where length counts the whole record including its own digits.</summary>
    void AddRecord(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        int body = 1 + key.Length + 1 + value.Length + 1; // " key=value\n"
        int digits = 1;
        while (CountDigits(body + digits) != digits)
            digits++;
        int total = body + digits;
        if (_records.Length < _recordsLength + total)
            Array.Resize(ref _records, Math.Max(_records.Length * 2, _recordsLength + total));
        var record = _records.AsSpan(_recordsLength, total);
        Utf8Formatter.TryFormat(total, record, out int written);
        record[written++] = (byte)' ';
        key.CopyTo(record[written..]);
        written += key.Length;
        record[written++] = (byte)'=';
        value.CopyTo(record[written..]);
        written += value.Length;
        record[written] = (byte)'\n';
        _recordsLength += total;
    }

    static int CountDigits(long value)
    {
        int digits = 1;
        while (value >= 10)
        {
            value /= 10;
            digits++;
        }
        return digits;
    }
}
