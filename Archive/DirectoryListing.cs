using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Wsd.Interop;

namespace Wsd.Archive;

/// <summary>
/// The names in one directory, read with getdents64 and handed out in bytewise order so archives
/// come out stable. One instance per tree depth is reused, so listing allocates only when a
/// directory is larger than the ones before it (or follows one that was large). What it holds
/// counts against the run's <see cref="ListingMemory"/>: a directory too large for it is sorted in
/// runs that go to a spill file and come back merged (<see cref="NameRuns"/>), so a workspace of
/// millions of empty files in one directory costs the daemon a fixed amount of memory.
/// </summary>
sealed unsafe class DirectoryListing : IDisposable
{
    public const byte TypeUnknown = 0, TypeFifo = 1, TypeCharDevice = 2, TypeDirectory = 4,
        TypeBlockDevice = 6, TypeRegular = 8, TypeSymlink = 10, TypeSocket = 12;

    // What every listing holds outside the budget: small, as a deep tree has one listing a level.
    const int InitialArena = 2 * 1024, InitialItems = 64;
    // Past this a listing gives its memory back when done, for the listings that come next.
    const int KeptBytes = 256 * 1024;

    readonly ListingMemory _memory;
    byte[] _arena = new byte[InitialArena];
    int _arenaLength;
    Listed[] _items = new Listed[InitialItems];
    int _count;
    long _held;
    readonly IComparer<Listed> _comparer;

    // Iteration: the in-memory items, or the merged run of a spilled directory.
    int _next;
    Listed _current;
    NameRuns? _runs;
    RunReader? _reader;
    byte[]? _readBuffer;
    bool _spilled;

    public DirectoryListing(ListingMemory memory)
    {
        _memory = memory;
        _comparer = Comparer<Listed>.Create((a, b) => Name(a).SequenceCompareTo(Name(b)));
    }

    readonly record struct Listed(int Offset, int Length, byte Type);

    /// <summary>Whether the directory loaded last went through the spill file.</summary>
    public bool Spilled => _spilled;

    /// <summary>The current entry's d_type.</summary>
    public byte Type => _reader?.Type ?? _current.Type;

    /// <summary>The current name without its NUL.</summary>
    public ReadOnlySpan<byte> Name() => _reader is { } reader ? reader.Name : Name(_current);

    /// <summary>The current name followed by its NUL, for syscalls.</summary>
    public ReadOnlySpan<byte> NameWithNul() => _reader is { } reader ? reader.NameWithNul : _arena.AsSpan(_current.Offset, _current.Length + 1);

    ReadOnlySpan<byte> Name(Listed item) => _arena.AsSpan(item.Offset, item.Length);

    /// <summary>Reads the whole directory; the names then come from <see cref="MoveNext"/>.</summary>
    public void Load(int directoryFd, byte* scratch, int scratchSize, ReadOnlySpan<byte> pathForErrors)
    {
        _arenaLength = _count = _next = 0;
        _reader = null;
        _spilled = false;
        while (true)
        {
            nint read = Libc.GetDents64(directoryFd, scratch, scratchSize);
            if (read < 0)
                throw SyscallException.FromLastError("getdents64", pathForErrors);
            if (read == 0)
                break;
            for (nint at = 0; at < read;)
            {
                // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
                byte* record = scratch + at;
                ushort length = *(ushort*)(record + 16);
                byte type = record[18];
                var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(record + 19);
                at += length;
                if (name is [(byte)'.'] or [(byte)'.', (byte)'.'])
                    continue;
                if (name.Length > TarEntry.MaxNameLength)
                    throw new ArchiveException($"a name in {SyscallException.Display(pathForErrors)} is longer than {TarEntry.MaxNameLength} bytes");
                if (!TryAdd(name, type))
                {
                    _runs ??= new NameRuns(_memory);
                    SpillBatch();
                    _spilled = true;
                    TryAdd(name, type); // an empty batch always takes one name
                }
            }
        }
        if (!_spilled)
        {
            Array.Sort(_items, 0, _count, _comparer);
            return;
        }
        if (_count > 0)
            SpillBatch();
        _readBuffer ??= new byte[ListingMemory.RunBufferSize];
        _reader = _runs!.Final(_readBuffer);
        GiveMemoryBack(); // the names now come from the file: the batch's budget is for the directories below
    }

    /// <summary>Advances to the next name in order; false after the last, when a large listing also gives its memory back.</summary>
    public bool MoveNext()
    {
        if (_reader is { } reader)
        {
            if (reader.MoveNext())
                return true;
            _reader = null;
            _runs!.Clear(); // the disk space goes back now, not when this depth is listed next
            return false;
        }
        if (_next < _count)
        {
            _current = _items[_next++];
            return true;
        }
        if (_held > KeptBytes)
            GiveMemoryBack();
        return false;
    }

    bool TryAdd(ReadOnlySpan<byte> name, byte type)
    {
        int needed = _arenaLength + name.Length + 1;
        // An empty batch takes its first name whatever the budget says, so spilling always progresses.
        if (_arena.Length < needed && !Grow(ref _arena, Math.Max(_arena.Length * 2, needed), force: _count == 0))
            return false;
        if (_count == _items.Length && !Grow(ref _items, _items.Length * 2, force: false))
            return false;
        name.CopyTo(_arena.AsSpan(_arenaLength));
        _arena[_arenaLength + name.Length] = 0;
        _items[_count++] = new Listed(_arenaLength, name.Length, type);
        _arenaLength += name.Length + 1;
        return true;
    }

    bool Grow<T>(ref T[] array, int length, bool force)
    {
        long more = (long)(length - array.Length) * Unsafe.SizeOf<T>();
        if (!_memory.TryHold(more, force))
            return false;
        _held += more;
        Array.Resize(ref array, length);
        return true;
    }

    /// <summary>The names gathered so far, sorted, as one run of the spill file; the batch starts empty again.</summary>
    void SpillBatch()
    {
        Array.Sort(_items, 0, _count, _comparer);
        _runs!.BeginRun();
        for (int i = 0; i < _count; i++)
            _runs.Append(_items[i].Type, Name(_items[i]));
        _runs.EndRun();
        _arenaLength = _count = 0;
    }

    void GiveMemoryBack()
    {
        if (_held == 0)
            return;
        _memory.Release(_held);
        _held = 0;
        _arena = new byte[InitialArena];
        _items = new Listed[InitialItems];
        _arenaLength = _count = _next = 0;
    }

    public void Dispose() => _runs?.Dispose();
}
