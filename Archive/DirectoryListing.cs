using System.Runtime.InteropServices;
using Wsd.Interop;

namespace Wsd.Archive;

/// <summary>
/// The names in one directory, read with getdents64 and sorted bytewise so archives come out in a
/// stable order. One instance per tree depth is reused, so listing allocates only when a directory
/// is larger than any seen before.
/// </summary>
sealed unsafe class DirectoryListing
{
    public const byte TypeUnknown = 0, TypeFifo = 1, TypeCharDevice = 2, TypeDirectory = 4,
        TypeBlockDevice = 6, TypeRegular = 8, TypeSymlink = 10, TypeSocket = 12;

    byte[] _arena = new byte[16 * 1024];
    int _arenaLength;
    Listed[] _items = new Listed[256];
    readonly IComparer<Listed> _comparer;

    public int Count { get; private set; }

    public DirectoryListing() => _comparer = Comparer<Listed>.Create((a, b) => Name(a).SequenceCompareTo(Name(b)));

    public record struct Listed(int Offset, int Length, byte Type);

    public Listed this[int index] => _items[index];

    /// <summary>The name without its NUL.</summary>
    public ReadOnlySpan<byte> Name(Listed item) => _arena.AsSpan(item.Offset, item.Length);

    /// <summary>The name followed by its NUL, for syscalls.</summary>
    public ReadOnlySpan<byte> NameWithNul(Listed item) => _arena.AsSpan(item.Offset, item.Length + 1);

    public void Load(int directoryFd, byte* scratch, int scratchSize, ReadOnlySpan<byte> pathForErrors)
    {
        _arenaLength = 0;
        Count = 0;
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
                Add(name, type);
            }
        }
        Array.Sort(_items, 0, Count, _comparer);
    }

    void Add(ReadOnlySpan<byte> name, byte type)
    {
        if (_arena.Length < _arenaLength + name.Length + 1)
            Array.Resize(ref _arena, Math.Max(_arena.Length * 2, _arenaLength + name.Length + 1));
        if (Count == _items.Length)
            Array.Resize(ref _items, _items.Length * 2);
        name.CopyTo(_arena.AsSpan(_arenaLength));
        _arena[_arenaLength + name.Length] = 0;
        _items[Count++] = new Listed(_arenaLength, name.Length, type);
        _arenaLength += name.Length + 1;
    }
}
