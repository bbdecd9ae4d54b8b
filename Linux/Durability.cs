using Microsoft.Win32.SafeHandles;
using Wsd.Interop;

namespace Wsd.Linux;

/// <summary>
/// Write-then-commit on Linux: a file's data reaches the disk before it gets its final name, and
/// the rename itself reaches the disk before the write is reported done.
/// </summary>
public static unsafe class Durability
{
    /// <summary>fsync(2) of a directory, so a rename or create inside it survives a crash.</summary>
    public static void SyncDirectory(string directory)
    {
        int fd = Directories.Open(directory);
        try
        {
            if (Libc.Fsync(fd) != 0)
                throw SyscallException.FromLastError("fsync", directory);
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>
    /// Writes <paramref name="content"/> to <paramref name="path"/> atomically: a temporary file in
    /// the same directory, fsync, rename over the target, fsync of the directory. A reader sees the
    /// old file or the new one, never a part.
    /// </summary>
    public static void WriteFileAtomically(string path, ReadOnlySpan<byte> content, UnixFileMode mode)
    {
        string directory = Path.GetDirectoryName(path)!;
        string temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.tmp-{Guid.NewGuid():N}");
        try
        {
            using (var file = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = mode,
                BufferSize = 0,
            }))
            {
                file.Write(content);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        SyncDirectory(directory);
    }

    /// <summary>fsync(2) of an open file.</summary>
    public static void Sync(SafeFileHandle file, string pathForErrors)
    {
        if (Libc.Fsync((int)file.DangerousGetHandle()) != 0)
            throw SyscallException.FromLastError("fsync", pathForErrors);
    }
}
