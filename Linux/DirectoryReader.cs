using System.Buffers;
using Wsd.Interop;

namespace Wsd.Linux;

/// <summary>
/// The entries of an open directory, read with getdents64 into one fixed buffer and handed out one
/// at a time: memory stays the buffer's size however many names the directory holds. "." and ".."
/// are skipped. The reader does not own the descriptor.
/// </summary>
public sealed unsafe class DirectoryReader(int directoryFd, string pathForErrors, int bufferSize = DirectoryReader.DefaultBufferSize) : IDisposable
{
    public const int DefaultBufferSize = 16 * 1024;

    // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
    const int RecordLengthOffset = 16, TypeOffset = 18, NameOffset = 19;

    /// <summary>d_type values.</summary>
    public const byte TypeUnknown = 0, TypeDirectory = 4;

    byte[]? _buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
    int _position, _length;

    /// <summary>
    /// The next entry's name (bytes without the NUL, valid until the next call) and d_type; false
    /// at the end of the directory.
    /// </summary>
    public bool Next(out ReadOnlySpan<byte> name, out byte type)
    {
        var buffer = _buffer ?? throw new ObjectDisposedException(nameof(DirectoryReader));
        while (true)
        {
            if (_position >= _length)
            {
                nint read;
                fixed (byte* b = buffer)
                    read = Libc.GetDents64(directoryFd, b, buffer.Length);
                if (read < 0)
                    throw SyscallException.FromLastError("getdents64", pathForErrors);
                if (read == 0)
                {
                    name = default;
                    type = 0;
                    return false;
                }
                _position = 0;
                _length = (int)read;
            }
            int record = BitConverter.ToUInt16(buffer, _position + RecordLengthOffset);
            var entry = buffer.AsSpan(_position + NameOffset, record - NameOffset);
            type = buffer[_position + TypeOffset];
            _position += record;
            name = entry[..entry.IndexOf((byte)0)];
            if (name is [(byte)'.'] or [(byte)'.', (byte)'.'])
                continue;
            return true;
        }
    }

    public void Dispose()
    {
        if (_buffer is { } buffer)
            ArrayPool<byte>.Shared.Return(buffer);
        _buffer = null;
    }
}
