using System.Buffers.Text;

namespace Wsd.Archive;

/// <summary>
/// Reads member headers as GNU tar, bsdtar and wsd write them: ustar, PAX ('x', 'g'), GNU long
/// names ('L', 'K') and GNU sparse files (old 'S' headers, PAX 0.1 and 1.0). Every header is
/// checksummed and every number bounded; the first thing that does not add up ends the read with
/// an <see cref="ArchiveException"/>.
/// </summary>
public sealed class TarEntryReader(TarInput input, int maxPaxHeaderBytes)
{
    /// <summary>
    /// More data regions than this in one sparse file is taken as hostile: the map is held whole
    /// (16 bytes a region, 4 MiB at most) because PAX 1.0 puts it before the data it describes.
    /// wsd itself writes at most <see cref="SparseRegions.MaxRegions"/>.
    /// </summary>
    public const int MaxSparseRegions = 1 << 18;

    /// <summary>Largest real size of a sparse member, 16 PiB: beyond any workspace, and far below what makes offsets overflow.</summary>
    public const long MaxSparseRealSize = 1L << 54;

    readonly PaxHeader _pax = new();
    byte[] _scratch = new byte[4096];
    byte[]? _longName;
    byte[]? _longLink;
    bool _sawAnyHeader;

    /// <summary>
    /// Reads the next member into <paramref name="entry"/> and leaves the input at its data
    /// (entry.Size bytes, then padding). False at the end-of-archive marker.
    /// </summary>
    public bool Next(TarEntry entry)
    {
        _pax.Reset();
        _longName = _longLink = null;
        while (true)
        {
            long offset = input.Position;
            var block = input.ReadBlock();
            if (block.IsEmpty)
            {
                throw new ArchiveException(_sawAnyHeader
                    ? "the archive ends without its end-of-archive marker (truncated?)"
                    : "the input is empty, not a tar archive", offset);
            }
            if (block.IndexOfAnyExcept((byte)0) < 0)
                return false; // end-of-archive marker (a second zero block may follow; the caller drains it)
            if (!ChecksumMatches(block))
            {
                throw new ArchiveException(_sawAnyHeader
                    ? "corrupt tar header (checksum mismatch)"
                    : "not a tar archive (the first header's checksum does not match)", offset);
            }
            _sawAnyHeader = true;

            byte type = block[TarFormat.TypeOffset];
            long size = Number(block, TarFormat.SizeOffset, TarFormat.SizeLength, "size", offset);
            switch (type)
            {
                case TarFormat.TypePaxExtended:
                    if (size > maxPaxHeaderBytes)
                        throw new ArchiveException($"PAX extended header of {size} bytes exceeds the {maxPaxHeaderBytes}-byte limit", offset);
                    _pax.Parse(ReadData((int)size), offset);
                    continue;
                case TarFormat.TypePaxGlobal:
                    if (size > maxPaxHeaderBytes)
                        throw new ArchiveException($"PAX global header of {size} bytes exceeds the {maxPaxHeaderBytes}-byte limit", offset);
                    input.Skip(size + TarFormat.PaddingOf(size));
                    continue;
                case TarFormat.TypeGnuLongName or TarFormat.TypeGnuLongLink:
                    if (size > TarEntry.MaxNameLength + 1)
                        throw new ArchiveException($"GNU long name of {size} bytes exceeds {TarEntry.MaxNameLength}", offset);
                    var text = ReadData((int)size);
                    int nul = text.IndexOf((byte)0);
                    var value = (nul < 0 ? text : text[..nul]).ToArray();
                    if (type == TarFormat.TypeGnuLongName)
                        _longName = value;
                    else
                        _longLink = value;
                    continue;
            }

            FillFromHeader(entry, block, type, size, offset);
            if (type == TarFormat.TypeGnuSparse)
                ReadOldGnuSparse(entry, block, offset);
            ApplyExtensions(entry, offset);
            return true;
        }
    }

    void FillFromHeader(TarEntry entry, ReadOnlySpan<byte> block, byte type, long size, long offset)
    {
        entry.Reset();
        entry.Type = type;
        entry.Size = size;
        entry.Mode = (uint)(Number(block, TarFormat.ModeOffset, TarFormat.ModeLength, "mode", offset) & 0xFFF);
        entry.Uid = Number(block, TarFormat.UidOffset, TarFormat.UidLength, "uid", offset);
        entry.Gid = Number(block, TarFormat.GidOffset, TarFormat.GidLength, "gid", offset);
        entry.MtimeSeconds = Number(block, TarFormat.MtimeOffset, TarFormat.MtimeLength, "mtime", offset);
        entry.DevMajor = (uint)Math.Min(Number(block, TarFormat.DevMajorOffset, TarFormat.DevMajorLength, "devmajor", offset), uint.MaxValue);
        entry.DevMinor = (uint)Math.Min(Number(block, TarFormat.DevMinorOffset, TarFormat.DevMinorLength, "devminor", offset), uint.MaxValue);

        var name = Field(block, TarFormat.NameOffset, TarFormat.NameLength);
        // POSIX ustar splits long names into prefix "/" name; GNU's own format uses that area otherwise.
        bool posix = block.Slice(TarFormat.MagicOffset, 6).SequenceEqual(TarFormat.UstarMagic);
        var prefix = posix ? Field(block, TarFormat.PrefixOffset, TarFormat.PrefixLength) : default;
        if (prefix.IsEmpty)
        {
            entry.SetName(name);
        }
        else
        {
            Span<byte> joined = stackalloc byte[TarFormat.PrefixLength + 1 + TarFormat.NameLength];
            prefix.CopyTo(joined);
            joined[prefix.Length] = (byte)'/';
            name.CopyTo(joined[(prefix.Length + 1)..]);
            entry.SetName(joined[..(prefix.Length + 1 + name.Length)]);
        }
        entry.SetLinkName(Field(block, TarFormat.LinkNameOffset, TarFormat.LinkNameLength));
    }

    void ApplyExtensions(TarEntry entry, long offset)
    {
        if (_longName is not null)
            entry.SetName(_longName);
        if (_longLink is not null)
            entry.SetLinkName(_longLink);
        if (_pax.IsEmpty)
            return;
        if (_pax.Path is not null)
            entry.SetName(_pax.Path);
        if (_pax.LinkPath is not null)
            entry.SetLinkName(_pax.LinkPath);
        if (_pax.Size is { } size)
            entry.Size = size;
        if (_pax.Uid is { } uid)
            entry.Uid = uid;
        if (_pax.Gid is { } gid)
            entry.Gid = gid;
        if (_pax.MtimeSeconds is { } seconds)
        {
            entry.MtimeSeconds = seconds;
            entry.MtimeNanoseconds = _pax.MtimeNanoseconds;
        }
        if (_pax.DevMajor is { } major)
            entry.DevMajor = major;
        if (_pax.DevMinor is { } minor)
            entry.DevMinor = minor;
        entry.Xattrs.AddRange(_pax.Xattrs);

        if (_pax.SparseMajor == 1 || _pax.SparseMap is not null)
        {
            if (_pax.SparseName is not null)
                entry.SetName(_pax.SparseName);
            entry.SparseRealSize = _pax.SparseRealSize
                ?? throw new ArchiveException("GNU sparse member without its real size", offset);
            if (_pax.SparseMajor == 1)
                ReadSparseMapFromData(entry, offset);
            else
                ParseSparseMapRecord(entry, _pax.SparseMap!, offset);
            ValidateSparseMap(entry, offset);
        }
    }

    // Old GNU 'S' member: up to four regions in the header, more in continuation blocks.
    void ReadOldGnuSparse(TarEntry entry, ReadOnlySpan<byte> header, long offset)
    {
        entry.SparseRealSize = Number(header, TarFormat.GnuRealSizeOffset, TarFormat.GnuRealSizeLength, "realsize", offset);
        AddOldGnuRegions(entry, header.Slice(TarFormat.GnuSparseOffset, TarFormat.GnuSparseEntries * TarFormat.GnuSparseEntryLength), offset);
        bool extended = header[TarFormat.GnuIsExtendedOffset] != 0;
        while (extended)
        {
            var block = input.ReadBlock();
            if (block.IsEmpty)
                throw new ArchiveException("the archive ends inside a GNU sparse map (truncated?)", input.Position);
            AddOldGnuRegions(entry, block[..(TarFormat.GnuExtendedEntries * TarFormat.GnuSparseEntryLength)], offset);
            extended = block[TarFormat.GnuExtendedIsExtendedOffset] != 0;
        }
        entry.Type = TarFormat.TypeRegular;
        ValidateSparseMap(entry, offset);
    }

    void AddOldGnuRegions(TarEntry entry, ReadOnlySpan<byte> regions, long offset)
    {
        for (int at = 0; at + TarFormat.GnuSparseEntryLength <= regions.Length; at += TarFormat.GnuSparseEntryLength)
        {
            var region = regions.Slice(at, TarFormat.GnuSparseEntryLength);
            if (region[0] == 0)
                break;
            long start = Number(region, 0, 12, "sparse offset", offset);
            long length = Number(region, 12, 12, "sparse length", offset);
            AddRegion(entry, start, length, offset);
        }
    }

    // PAX 1.0: the map is text at the start of the data, "count\n" then "offset\nlength\n" pairs, padded to a block.
    void ReadSparseMapFromData(TarEntry entry, long offset)
    {
        long consumed = 0;
        long ReadLine()
        {
            long value = 0;
            int digits = 0;
            Span<byte> one = stackalloc byte[1];
            while (true)
            {
                // The map lies inside the member's data: it may not read past it into the next header.
                if (consumed >= entry.Size)
                    throw new ArchiveException("GNU sparse map larger than its member", offset);
                input.ReadExactly(one);
                consumed++;
                if (one[0] == '\n')
                    break;
                if (one[0] < '0' || one[0] > '9' || ++digits > 19 || value > (long.MaxValue - (one[0] - '0')) / 10)
                    throw new ArchiveException("corrupt GNU sparse map", offset);
                value = value * 10 + (one[0] - '0');
            }
            if (digits == 0)
                throw new ArchiveException("corrupt GNU sparse map", offset);
            return value;
        }

        long count = ReadLine();
        if (count > MaxSparseRegions)
            throw new ArchiveException($"GNU sparse map with {count} regions exceeds {MaxSparseRegions}", offset);
        for (long i = 0; i < count; i++)
        {
            long start = ReadLine();
            long length = ReadLine();
            AddRegion(entry, start, length, offset);
        }
        long padding = TarFormat.PaddingOf(consumed);
        input.Skip(padding);
        entry.Size -= consumed + padding;
        if (entry.Size < 0)
            throw new ArchiveException("GNU sparse map larger than its member", offset);
    }

    void ParseSparseMapRecord(TarEntry entry, byte[] map, long offset)
    {
        var rest = map.AsSpan();
        while (!rest.IsEmpty)
        {
            long start = NextNumber(ref rest);
            long length = NextNumber(ref rest);
            AddRegion(entry, start, length, offset);
        }

        long NextNumber(ref Span<byte> text)
        {
            int comma = text.IndexOf((byte)',');
            var digits = comma < 0 ? text : text[..comma];
            if (!Utf8Parser.TryParse(digits, out long value, out int used) || used != digits.Length || value < 0)
                throw new ArchiveException("corrupt GNU.sparse.map", offset);
            text = comma < 0 ? default : text[(comma + 1)..];
            return value;
        }
    }

    static void AddRegion(TarEntry entry, long start, long length, long offset)
    {
        if (entry.SparseMap.Count >= MaxSparseRegions)
            throw new ArchiveException($"GNU sparse map exceeds {MaxSparseRegions} regions", offset);
        entry.SparseMap.Add((start, length));
    }

    static void ValidateSparseMap(TarEntry entry, long offset)
    {
        if (entry.SparseRealSize > MaxSparseRealSize)
            throw new ArchiveException($"GNU sparse member of {entry.SparseRealSize} bytes exceeds the {MaxSparseRealSize}-byte limit", offset);
        long end = 0, total = 0;
        foreach (var (start, length) in entry.SparseMap)
        {
            if (start < end || length < 0 || start > entry.SparseRealSize - length)
                throw new ArchiveException("GNU sparse map regions overlap, are out of order or lie past the file's size", offset);
            end = start + length;
            total += length;
        }
        if (total != entry.Size)
            throw new ArchiveException("GNU sparse map does not add up to the member's data", offset);
    }

    ReadOnlySpan<byte> ReadData(int size)
    {
        if (_scratch.Length < size)
            _scratch = new byte[Math.Max(size, _scratch.Length * 2)];
        var data = _scratch.AsSpan(0, size);
        input.ReadExactly(data);
        input.Skip(TarFormat.PaddingOf(size));
        return data;
    }

    static ReadOnlySpan<byte> Field(ReadOnlySpan<byte> block, int offset, int length)
    {
        var field = block.Slice(offset, length);
        int nul = field.IndexOf((byte)0);
        return nul < 0 ? field : field[..nul];
    }

    static long Number(ReadOnlySpan<byte> block, int offset, int length, string name, long headerOffset)
    {
        if (!TarNumbers.TryParse(block.Slice(offset, length), out long value))
            throw new ArchiveException($"tar header field {name} is not a valid number", headerOffset);
        return value;
    }

    /// <summary>Accepts the unsigned sum (POSIX) and the signed one some old writers used.</summary>
    static bool ChecksumMatches(ReadOnlySpan<byte> block) =>
        TarNumbers.TryParse(block.Slice(TarFormat.ChecksumOffset, TarFormat.ChecksumLength), out long stored) &&
        (stored == TarChecksum.Unsigned(block) || stored == TarChecksum.Signed(block));
}
