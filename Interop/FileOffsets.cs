using System.Runtime.InteropServices;

namespace Wsd.Interop;

/// <summary>lseek(2), which also rewinds a directory descriptor for another getdents pass.</summary>
public static partial class FileOffsets
{
    public const int SeekSet = 0;

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    public static partial long LSeek(int fd, long offset, int whence);
}
