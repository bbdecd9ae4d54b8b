using System.Runtime.InteropServices;
using System.Text;

namespace Wsd.Interop;

/// <summary>
/// A NULL-terminated array of NUL-terminated UTF-8 strings in one block of native memory (argv,
/// envp), for code that must not touch the managed heap, such as a cloned child before execve.
/// </summary>
public sealed unsafe class NativeStrings : IDisposable
{
    readonly byte* _block;

    public NativeStrings(IReadOnlyList<string> values)
    {
        int pointers = (values.Count + 1) * sizeof(nint);
        int bytes = pointers;
        foreach (var value in values)
            bytes += Encoding.UTF8.GetByteCount(value) + 1;
        _block = (byte*)NativeMemory.AllocZeroed((nuint)bytes);
        var array = (byte**)_block;
        byte* at = _block + pointers;
        for (int i = 0; i < values.Count; i++)
        {
            array[i] = at;
            int written = Encoding.UTF8.GetBytes(values[i], new Span<byte>(at, bytes - (int)(at - _block)));
            if (new ReadOnlySpan<byte>(at, written).Contains((byte)0))
                throw new ArgumentException("a NUL byte inside an argument or environment string", nameof(values));
            at += written + 1; // the NUL is already there
        }
    }

    public byte** Pointers => (byte**)_block;

    public byte* this[int index] => Pointers[index];

    public void Dispose() => NativeMemory.Free(_block);
}
