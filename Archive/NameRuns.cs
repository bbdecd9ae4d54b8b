using Wsd.Interop;

namespace Wsd.Archive;

/// <summary>
/// Sorted runs of directory entries in a nameless spill file, merged back into one run in
/// bytewise name order, so a directory of millions of names is archived in order with bounded
/// memory. A record is the d_type, the name's length (two bytes, little-endian), the name and a
/// NUL, so a name read back can go to a syscall as it lies in the buffer. At most
/// <see cref="FanIn"/> runs are merged at once, in levels: sixteen runs of one level become one of
/// the next, so each name is rewritten once per level, however small the batches were.
/// </summary>
sealed class NameRuns : IDisposable
{
    public const int FanIn = 16;
    public const int RecordOverhead = 4;

    readonly ListingMemory _memory;
    readonly int _fd;
    readonly string _displayName;
    readonly List<(long Start, long End, int Level)> _runs = [];
    readonly RunReader[] _readers = new RunReader[FanIn];
    long _fileEnd;
    long _runStart;
    int _buffered;

    public NameRuns(ListingMemory memory)
    {
        _memory = memory;
        _displayName = $"directory listing spill file in {memory.SpillDirectory}";
        _fd = TempFiles.OpenAnonymous(memory.SpillDirectory);
    }

    public void BeginRun() => _runStart = _fileEnd;

    public void Append(byte type, ReadOnlySpan<byte> name)
    {
        var buffer = _memory.WriteBuffer;
        if (buffer.Length - _buffered < name.Length + RecordOverhead)
            Flush();
        buffer[_buffered] = type;
        buffer[_buffered + 1] = (byte)name.Length;
        buffer[_buffered + 2] = (byte)(name.Length >> 8);
        name.CopyTo(buffer.AsSpan(_buffered + 3));
        buffer[_buffered + 3 + name.Length] = 0;
        _buffered += name.Length + RecordOverhead;
    }

    /// <summary>Closes the run begun last; whenever <see cref="FanIn"/> runs of one level are waiting, merges them into one of the next.</summary>
    public void EndRun()
    {
        Flush();
        _runs.Add((_runStart, _fileEnd, 0));
        // Levels only fall along the list, so a full level is always its last FanIn runs.
        while (_runs.Count >= FanIn && _runs[^FanIn].Level == _runs[^1].Level)
            MergeLast(FanIn, _runs[^1].Level + 1);
    }

    /// <summary>Merges every run into one, smallest first, and reads it back through <paramref name="buffer"/>.</summary>
    public RunReader Final(byte[] buffer)
    {
        while (_runs.Count > 1)
            MergeLast(Math.Min(FanIn, _runs.Count), _runs[^Math.Min(FanIn, _runs.Count)].Level + 1);
        var reader = new RunReader(_fd, _displayName, buffer);
        var (start, end, _) = _runs.Count == 0 ? (0L, 0L, 0) : _runs[0];
        reader.Reset(start, end);
        return reader;
    }

    /// <summary>Forgets every run so the file can be reused for the next directory.</summary>
    public void Clear()
    {
        _runs.Clear();
        _fileEnd = 0;
        _buffered = 0;
        if (Libc.FTruncate(_fd, 0) != 0)
            throw SyscallException.FromLastError("ftruncate", _displayName);
    }

    /// <summary>The last <paramref name="count"/> runs become one of <paramref name="level"/>, written after them.</summary>
    void MergeLast(int count, int level)
    {
        int first = _runs.Count - count;
        for (int i = 0; i < count; i++)
        {
            _readers[i] ??= new RunReader(_fd, _displayName, _memory.MergeBuffer(i));
            _readers[i].Reset(_runs[first + i].Start, _runs[first + i].End);
            if (!_readers[i].MoveNext())
                _readers[i].Done = true;
        }
        BeginRun();
        while (true)
        {
            RunReader? least = null;
            for (int i = 0; i < count; i++)
            {
                var reader = _readers[i];
                if (!reader.Done && (least is null || reader.Name.SequenceCompareTo(least.Name) < 0))
                    least = reader;
            }
            if (least is null)
                break;
            Append(least.Type, least.Name);
            if (!least.MoveNext())
                least.Done = true;
        }
        Flush();
        _runs.RemoveRange(first, count);
        _runs.Add((_runStart, _fileEnd, level));
    }

    void Flush()
    {
        if (_buffered == 0)
            return;
        TempFiles.WriteAt(_fd, _memory.WriteBuffer.AsSpan(0, _buffered), _fileEnd, _displayName);
        _fileEnd += _buffered;
        _buffered = 0;
    }

    public void Dispose() => Libc.Close(_fd);
}

/// <summary>Reads one run of <see cref="NameRuns"/> records in order; the current name stays valid until the next <see cref="MoveNext"/>.</summary>
sealed class RunReader(int fd, string displayName, byte[] buffer)
{
    long _next, _end;
    int _at, _length, _nameOffset;

    public byte Type { get; private set; }
    public int NameLength { get; private set; }
    public bool Done { get; set; }
    public ReadOnlySpan<byte> Name => buffer.AsSpan(_nameOffset, NameLength);
    public ReadOnlySpan<byte> NameWithNul => buffer.AsSpan(_nameOffset, NameLength + 1);

    public void Reset(long start, long end)
    {
        _next = start;
        _end = end;
        _at = _length = 0;
        Done = false;
    }

    public bool MoveNext()
    {
        if (!Ensure(3))
            return false;
        int nameLength = buffer[_at + 1] | (buffer[_at + 2] << 8);
        if (!Ensure(nameLength + NameRuns.RecordOverhead))
            throw new IOException($"{displayName} ends inside a record");
        Type = buffer[_at];
        _nameOffset = _at + 3;
        NameLength = nameLength;
        _at += nameLength + NameRuns.RecordOverhead;
        return true;
    }

    bool Ensure(int bytes)
    {
        if (_length - _at >= bytes)
            return true;
        buffer.AsSpan(_at, _length - _at).CopyTo(buffer);
        _length -= _at;
        _at = 0;
        int want = (int)Math.Min(buffer.Length - _length, _end - _next);
        if (want > 0)
        {
            int got = TempFiles.ReadAt(fd, buffer.AsSpan(_length, want), _next, displayName);
            _next += got;
            _length += got;
        }
        return _length >= bytes;
    }
}
