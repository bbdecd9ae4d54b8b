namespace Wsd.Archive;

/// <summary>
/// What identifies a file's content without reading it: the key of a files cache
/// (docs/chunked-backups.md, "Files cache"). Content cannot change while all of these stay the
/// same, because every change of content moves the ctime, and no system call lets a user set it.
/// </summary>
public readonly record struct FileIdentity(uint DeviceMajor, uint DeviceMinor, ulong Inode, long Size, long MtimeNanoseconds, long CtimeNanoseconds);

/// <summary>
/// An archive's target that wants to know where a large member's data lies in the stream, and may
/// already hold that data (the chunked backup, docs/chunked-backups.md, "Chunk boundaries"). The
/// archive writer announces each regular, non-sparse member with at least
/// <see cref="LargeMemberBytes"/> of data just before the data, in stream order.
/// </summary>
public interface ILargeMemberTarget
{
    /// <summary>Members with at least this much data are announced.</summary>
    long LargeMemberBytes { get; }

    /// <summary>
    /// Whether the target holds this file's data already, so the writer need not read it. Called on
    /// the walking thread, ahead of the stream; it must answer from what the target knew when it
    /// started, and the same way when asked again.
    /// </summary>
    bool Holds(in FileIdentity file);

    /// <summary>
    /// In stream order: the next <paramref name="length"/> bytes are one member's data. With
    /// <paramref name="held"/> (a yes from <see cref="Holds"/>) the bytes are not written, and the
    /// target puts the data it holds in their place.
    /// </summary>
    void BeginLarge(in FileIdentity file, long length, bool held);
}
