namespace Wsd.Archive;

/// <summary>
/// One archive member's metadata, reused from entry to entry so reading and writing allocate
/// nothing per member. Names are raw bytes (tar names are not necessarily UTF-8), relative to the
/// archive root, directories with a trailing '/'.
/// </summary>
public sealed class TarEntry
{
    /// <summary>Longest name or link target accepted, as Linux's PATH_MAX.</summary>
    public const int MaxNameLength = 4096;

    public byte Type;
    public readonly byte[] Name = new byte[MaxNameLength + 1];
    public int NameLength;
    public readonly byte[] LinkName = new byte[MaxNameLength + 1];
    public int LinkNameLength;
    public uint Mode;
    public long Uid;
    public long Gid;
    public long Size;
    public long MtimeSeconds;
    public int MtimeNanoseconds;
    public uint DevMajor;
    public uint DevMinor;

    /// <summary>Extended attributes to store or restore; empty for nearly every file.</summary>
    public readonly List<KeyValuePair<string, byte[]>> Xattrs = [];

    /// <summary>For sparse members: the file's real size and its data regions, in archive order.</summary>
    public long SparseRealSize = -1;
    public readonly List<(long Offset, long Length)> SparseMap = [];

    public ReadOnlySpan<byte> NameSpan => Name.AsSpan(0, NameLength);
    public ReadOnlySpan<byte> LinkNameSpan => LinkName.AsSpan(0, LinkNameLength);
    public bool IsSparse => SparseRealSize >= 0;

    public void Reset()
    {
        Type = TarFormat.TypeRegular;
        NameLength = 0;
        LinkNameLength = 0;
        Mode = 0;
        Uid = Gid = 0;
        Size = 0;
        MtimeSeconds = 0;
        MtimeNanoseconds = 0;
        DevMajor = DevMinor = 0;
        Xattrs.Clear();
        SparseRealSize = -1;
        SparseMap.Clear();
    }

    public void SetName(ReadOnlySpan<byte> name)
    {
        if (name.Length > MaxNameLength)
            throw new ArchiveException($"member name longer than {MaxNameLength} bytes");
        name.CopyTo(Name);
        NameLength = name.Length;
    }

    public void SetLinkName(ReadOnlySpan<byte> name)
    {
        if (name.Length > MaxNameLength)
            throw new ArchiveException($"link target longer than {MaxNameLength} bytes");
        name.CopyTo(LinkName);
        LinkNameLength = name.Length;
    }

    public string DisplayName => System.Text.Encoding.UTF8.GetString(NameSpan);
}
