using System.Runtime.InteropServices;

namespace Wsd.Interop;

/// <summary>
/// Finding a file's data and holes with lseek(2) SEEK_DATA/SEEK_HOLE, and the allocated size statx
/// reports, so sparse files can be archived without reading their holes.
/// </summary>
public static unsafe partial class SparseCalls
{
    const int SeekSet = 0, SeekData = 3, SeekHole = 4;

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static partial long LSeek(int fd, long offset, int whence);

    /// <summary>Where the first data at or after <paramref name="offset"/> starts; -1 when only hole follows (ENXIO).</summary>
    public static long NextData(int fd, long offset, ReadOnlySpan<byte> pathForErrors) => Seek(fd, offset, SeekData, "lseek(SEEK_DATA)", pathForErrors);

    /// <summary>Where the first hole at or after <paramref name="offset"/> starts (the end of the file counts as one); -1 past the end.</summary>
    public static long NextHole(int fd, long offset, ReadOnlySpan<byte> pathForErrors) => Seek(fd, offset, SeekHole, "lseek(SEEK_HOLE)", pathForErrors);

    /// <summary>Moves the file position, for read(2) to continue from <paramref name="offset"/>.</summary>
    public static void SeekTo(int fd, long offset, ReadOnlySpan<byte> pathForErrors)
    {
        if (LSeek(fd, offset, SeekSet) < 0)
            throw SyscallException.FromLastError("lseek", pathForErrors);
    }

    static long Seek(int fd, long offset, int whence, string call, ReadOnlySpan<byte> pathForErrors)
    {
        long result = LSeek(fd, offset, whence);
        if (result >= 0)
            return result;
        if (Marshal.GetLastPInvokeError() == Errno.ENXIO)
            return -1;
        throw SyscallException.FromLastError(call, pathForErrors);
    }
}
