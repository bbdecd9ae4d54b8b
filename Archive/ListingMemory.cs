namespace Wsd.Archive;

/// <summary>
/// What the directory listings of one archive run may hold in memory together, and the buffers
/// they share when a listing spills. Only the listings on the path being walked are live at once,
/// so the budget bounds the walk whatever the size or depth of the tree; a listing that would
/// exceed it writes sorted runs to a nameless file in <see cref="SpillDirectory"/> instead.
/// </summary>
sealed class ListingMemory(string spillDirectory, long budget)
{
    /// <summary>Bytes a spilled run is read or written through, per run in a merge.</summary>
    public const int RunBufferSize = 64 * 1024;

    byte[]? _writeBuffer;
    byte[][]? _mergeBuffers;

    public string SpillDirectory { get; } = spillDirectory;
    public long Held { get; private set; }

    /// <summary>Takes <paramref name="bytes"/> from the budget; false, taking nothing, when they do not fit (unless <paramref name="force"/>d).</summary>
    public bool TryHold(long bytes, bool force = false)
    {
        if (Held + bytes > budget && !force)
            return false;
        Held += bytes;
        return true;
    }

    public void Release(long bytes) => Held -= bytes;

    // Spilling runs one directory at a time (a child is listed only once its parent's merge is
    // done), so one set of buffers serves every depth.
    public byte[] WriteBuffer => _writeBuffer ??= new byte[RunBufferSize];

    public byte[] MergeBuffer(int run)
    {
        _mergeBuffers ??= new byte[NameRuns.FanIn][];
        return _mergeBuffers[run] ??= new byte[RunBufferSize];
    }
}
