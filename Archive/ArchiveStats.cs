namespace Wsd.Archive;

/// <summary>What creating or extracting an archive did, for logs, metrics and the CLI's summary.</summary>
public sealed class ArchiveStats
{
    const int SampleLimit = 10;

    public long Entries { get; set; }
    public long Files { get; set; }
    public long Directories { get; set; }
    public long Symlinks { get; set; }
    public long HardLinks { get; set; }
    public long SpecialFiles { get; set; }
    /// <summary>Regular files stored or restored with their holes (PAX sparse), a subset of <see cref="Files"/>.</summary>
    public long SparseFiles { get; set; }
    /// <summary>Bytes of file content archived or restored; a sparse file counts its data, not its holes.</summary>
    public long DataBytes { get; set; }
    /// <summary>Bytes of the tar stream itself (before compression).</summary>
    public long TarBytes { get; set; }
    public long SocketsSkipped { get; set; }
    public long DevicesSkipped { get; set; }
    public long UnknownTypesSkipped { get; set; }
    /// <summary>Entries that disappeared between listing and reading (a live workspace).</summary>
    public long VanishedSkipped { get; set; }
    /// <summary>Files that shrank while read; their missing tail is archived as zeros.</summary>
    public long ChangedWhileRead { get; set; }
    /// <summary>Entries whose owner or group was outside the ID mapping and got the fallback ID.</summary>
    public long UnmappedOwners { get; set; }
    public List<string> UnmappedSample { get; } = [];

    internal void NoteUnmapped(ReadOnlySpan<byte> name)
    {
        UnmappedOwners++;
        if (UnmappedSample.Count < SampleLimit)
            UnmappedSample.Add(System.Text.Encoding.UTF8.GetString(name));
    }
}
