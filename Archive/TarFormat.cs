namespace Wsd.Archive;

/// <summary>
/// The tar on-disk layout: POSIX ustar header fields, type flags and the GNU extensions wsd reads.
/// Every number about the format lives here.
/// </summary>
public static class TarFormat
{
    public const int BlockSize = 512;

    // ustar header fields: (offset, length).
    public const int NameOffset = 0, NameLength = 100;
    public const int ModeOffset = 100, ModeLength = 8;
    public const int UidOffset = 108, UidLength = 8;
    public const int GidOffset = 116, GidLength = 8;
    public const int SizeOffset = 124, SizeLength = 12;
    public const int MtimeOffset = 136, MtimeLength = 12;
    public const int ChecksumOffset = 148, ChecksumLength = 8;
    public const int TypeOffset = 156;
    public const int LinkNameOffset = 157, LinkNameLength = 100;
    public const int MagicOffset = 257;
    public const int VersionOffset = 263;
    public const int UserNameOffset = 265, UserNameLength = 32;
    public const int GroupNameOffset = 297, GroupNameLength = 32;
    public const int DevMajorOffset = 329, DevMajorLength = 8;
    public const int DevMinorOffset = 337, DevMinorLength = 8;
    public const int PrefixOffset = 345, PrefixLength = 155;

    // Old GNU sparse header: four (offset, size) pairs, a continuation flag and the real size.
    public const int GnuSparseOffset = 386, GnuSparseEntries = 4, GnuSparseEntryLength = 24;
    public const int GnuIsExtendedOffset = 482;
    public const int GnuRealSizeOffset = 483, GnuRealSizeLength = 12;
    public const int GnuExtendedEntries = 21, GnuExtendedIsExtendedOffset = 504;

    /// <summary>"ustar\0" + "00": POSIX.</summary>
    public static ReadOnlySpan<byte> UstarMagic => "ustar\0"u8;
    public static ReadOnlySpan<byte> UstarVersion => "00"u8;

    /// <summary>The directory GNU tar puts in a PAX 1.0 sparse member's header name (its %p is a PID; wsd writes 0).</summary>
    public static ReadOnlySpan<byte> SparseStandInDirectory => "GNUSparseFile.0/"u8;

    // Type flags.
    public const byte TypeRegular = (byte)'0';
    public const byte TypeRegularOld = 0;
    public const byte TypeHardLink = (byte)'1';
    public const byte TypeSymlink = (byte)'2';
    public const byte TypeCharDevice = (byte)'3';
    public const byte TypeBlockDevice = (byte)'4';
    public const byte TypeDirectory = (byte)'5';
    public const byte TypeFifo = (byte)'6';
    public const byte TypeContiguous = (byte)'7';
    public const byte TypePaxExtended = (byte)'x';
    public const byte TypePaxGlobal = (byte)'g';
    public const byte TypeGnuLongName = (byte)'L';
    public const byte TypeGnuLongLink = (byte)'K';
    public const byte TypeGnuSparse = (byte)'S';
    public const byte TypeGnuDumpDir = (byte)'D';
    public const byte TypeGnuVolumeHeader = (byte)'V';

    /// <summary>Largest value an octal field of <paramref name="length"/> bytes holds (length-1 digits and a NUL).</summary>
    public static long MaxOctal(int length) => (1L << (3 * (length - 1))) - 1;

    public static long PaddingOf(long size) => (BlockSize - (size % BlockSize)) % BlockSize;
}
