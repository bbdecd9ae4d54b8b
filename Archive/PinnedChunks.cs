using System.Buffers;
using System.Runtime.InteropServices;

namespace Wsd.Archive;

/// <summary>
/// The fixed set of I/O chunks one archive stream works in, rented from the shared pool and pinned
/// for its lifetime, so successive backups reuse warm memory instead of faulting in fresh pages.
/// </summary>
sealed unsafe class PinnedChunks : IDisposable
{
    readonly byte[][] _arrays;
    readonly GCHandle[] _handles;

    public PinnedChunks(int count, int size)
    {
        _arrays = new byte[count][];
        _handles = new GCHandle[count];
        Pointers = new nint[count];
        for (int i = 0; i < count; i++)
        {
            _arrays[i] = ArrayPool<byte>.Shared.Rent(size);
            _handles[i] = GCHandle.Alloc(_arrays[i], GCHandleType.Pinned);
            Pointers[i] = _handles[i].AddrOfPinnedObject();
        }
    }

    public nint[] Pointers { get; }

    public void Dispose()
    {
        for (int i = 0; i < _arrays.Length; i++)
        {
            if (!_handles[i].IsAllocated)
                continue;
            _handles[i].Free();
            ArrayPool<byte>.Shared.Return(_arrays[i]);
        }
    }
}
