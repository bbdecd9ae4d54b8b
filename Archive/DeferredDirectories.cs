namespace Wsd.Archive;

/// <summary>
/// Directories whose mode and times wait until nothing more is written into them (a
/// directory without owner-write must still fill, and every write moves its mtime). They are held
/// as the chain from the destination down to the current member: once a member lies outside a
/// deferred directory the stream has left it, and it is finished then, deepest first. Memory is
/// bounded by path depth (a few words a level, the path itself kept once), not by how many
/// directories the archive has, and a directory repeated (a million "d/" members) is one entry
/// whose metadata the last repeat sets.
/// <para>
/// An archive that is not depth-first can come back into a directory already finished. A
/// fixed-size filter of finished paths (false positives possible, false negatives not) tells the
/// extractor when that may be so; it then defers the directory again with the metadata it has now.
/// </para>
/// </summary>
sealed class DeferredDirectories
{
    /// <summary>One deferred directory; its path is <see cref="PathOf"/>. Instances are reused from level to level.</summary>
    public sealed class Entry
    {
        public int Length;
        public uint Mode;
        public long MtimeSeconds;
        public int MtimeNanoseconds;
    }

    const int FilterBits = 1 << 23; // 1 MiB: few false positives up to a few million directories
    const int FilterProbes = 3;

    // The deepest entry's path; every other entry's path is a prefix of it.
    readonly byte[] _path = new byte[TarEntry.MaxNameLength + 1];
    readonly List<Entry> _stack = [];
    int _count;
    ulong[]? _finished;

    public int Count => _count;

    public ReadOnlySpan<byte> PathOf(Entry entry) => _path.AsSpan(0, entry.Length);

    /// <summary>
    /// The deepest deferred directory that neither is nor contains <paramref name="member"/>, taken
    /// off the chain; null when every one left contains it. The caller finishes what it returns
    /// before deferring anything else (its path is valid until then).
    /// </summary>
    public Entry? PopLeft(ReadOnlySpan<byte> member)
    {
        if (_count == 0 || Contains(_stack[_count - 1].Length, member))
            return null;
        return Pop();
    }

    /// <summary>The deepest deferred directory, taken off the chain; null when none is left (the end of the archive).</summary>
    public Entry? PopAny() => _count == 0 ? null : Pop();

    Entry Pop()
    {
        var entry = _stack[--_count];
        MarkFinished(PathOf(entry));
        return entry;
    }

    /// <summary>
    /// Defers <paramref name="path"/>, which every entry on the chain contains (the caller popped
    /// the others first): the same path again replaces its metadata, a deeper one goes on top.
    /// </summary>
    public void Defer(ReadOnlySpan<byte> path, uint mode, long mtimeSeconds, int mtimeNanoseconds)
    {
        Entry entry;
        if (_count > 0 && _stack[_count - 1].Length == path.Length)
        {
            entry = _stack[_count - 1];
        }
        else
        {
            if (_count == _stack.Count)
                _stack.Add(new Entry());
            entry = _stack[_count++];
            path.CopyTo(_path);
            entry.Length = path.Length;
        }
        entry.Mode = mode;
        entry.MtimeSeconds = mtimeSeconds;
        entry.MtimeNanoseconds = mtimeNanoseconds;
    }

    /// <summary>
    /// Whether a member is about to be written into <paramref name="directory"/> (its parent) after
    /// that directory may have been finished: true only when it is not on the chain and the filter
    /// has seen it. Call after popping for the member.
    /// </summary>
    public bool MayBeFinished(ReadOnlySpan<byte> directory)
    {
        if (_finished is null || (_count > 0 && _stack[_count - 1].Length >= directory.Length))
            return false; // the chain holds it (or the member itself, which lies inside it)
        var (h1, h2) = Hash(directory);
        for (uint i = 0; i < FilterProbes; i++)
        {
            uint bit = (h1 + i * h2) % FilterBits;
            if ((_finished[bit >> 6] & (1UL << (int)(bit & 63))) == 0)
                return false;
        }
        return true;
    }

    void MarkFinished(ReadOnlySpan<byte> path)
    {
        _finished ??= new ulong[FilterBits / 64];
        var (h1, h2) = Hash(path);
        for (uint i = 0; i < FilterProbes; i++)
        {
            uint bit = (h1 + i * h2) % FilterBits;
            _finished[bit >> 6] |= 1UL << (int)(bit & 63);
        }
    }

    bool Contains(int length, ReadOnlySpan<byte> member) =>
        length == 0 ||
        (member.Length >= length && member[..length].SequenceEqual(_path.AsSpan(0, length)) &&
         (member.Length == length || member[length] == '/'));

    // FNV-1a, split into the two halves double hashing needs (the second made odd so probes differ).
    static (uint, uint) Hash(ReadOnlySpan<byte> path)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in path)
            hash = (hash ^ b) * 1099511628211UL;
        return ((uint)hash, (uint)(hash >> 32) | 1);
    }
}
