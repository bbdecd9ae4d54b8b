using System.Runtime.InteropServices;

namespace Wsd.Interop;

/// <summary>
/// Anonymous scratch files: O_TMPFILE where the file system has it (the file never has a name
/// anyone could open or swap), else a file created and unlinked at once inside a private 0700
/// directory. Either way the space goes back when the descriptor is closed, even after a crash.
/// </summary>
public static unsafe partial class TempFiles
{
    const int TmpFile = 0x410000; // O_TMPFILE (__O_TMPFILE | O_DIRECTORY)
    const int ReadWrite = 2;

    [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)]
    private static partial nint PRead(int fd, byte* buffer, nint count, long offset);

    [LibraryImport("libc", EntryPoint = "unlink", SetLastError = true)]
    private static partial int Unlink(byte* path);

    [LibraryImport("libc", EntryPoint = "rmdir", SetLastError = true)]
    private static partial int Rmdir(byte* path);

    /// <summary>A read-write descriptor of a new, nameless file in <paramref name="directory"/>'s file system.</summary>
    public static int OpenAnonymous(string directory)
    {
        fixed (byte* path = CStrings.Of(directory))
        {
            int fd = Libc.OpenAt(AtFlags.CurrentDirectory, path, TmpFile | ReadWrite | OpenFlags.CloseOnExec, 0x180);
            if (fd >= 0)
                return fd;
            int errno = Marshal.GetLastPInvokeError();
            if (errno is not (Errno.EOPNOTSUPP or Errno.EISDIR or Errno.EINVAL))
                throw new SyscallException("open(O_TMPFILE)", directory, errno);
        }
        // No O_TMPFILE here: a name that exists only for an instant, in a directory of its own that
        // only its owner can enter, made with mkdir so a name planted in a shared /tmp is never reused.
        string privateDirectory = Path.Combine(directory, $"wsd-spill-{Guid.NewGuid():N}");
        fixed (byte* dir = CStrings.Of(privateDirectory))
        {
            if (Libc.MkdirAt(AtFlags.CurrentDirectory, dir, 0x1C0) != 0)
                throw SyscallException.FromLastError("mkdir", privateDirectory);
            string name = Path.Combine(privateDirectory, "spill");
            fixed (byte* path = CStrings.Of(name))
            {
                int fd = Libc.OpenAt(AtFlags.CurrentDirectory, path,
                    ReadWrite | OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoFollow | OpenFlags.CloseOnExec, 0x180);
                int errno = Marshal.GetLastPInvokeError();
                Unlink(path);
                Rmdir(dir);
                if (fd < 0)
                    throw new SyscallException("open", name, errno);
                return fd;
            }
        }
    }

    /// <summary>Writes all of <paramref name="data"/> at <paramref name="offset"/>.</summary>
    public static void WriteAt(int fd, ReadOnlySpan<byte> data, long offset, string nameForErrors)
    {
        fixed (byte* p = data)
        {
            for (int done = 0; done < data.Length;)
            {
                nint n = Libc.PWrite(fd, p + done, data.Length - done, offset + done);
                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == Errno.EINTR)
                        continue;
                    throw SyscallException.FromLastError("pwrite", nameForErrors);
                }
                done += (int)n;
            }
        }
    }

    /// <summary>Reads up to <paramref name="buffer"/>.Length bytes at <paramref name="offset"/>; fewer only at the end of the file.</summary>
    public static int ReadAt(int fd, Span<byte> buffer, long offset, string nameForErrors)
    {
        fixed (byte* p = buffer)
        {
            int done = 0;
            while (done < buffer.Length)
            {
                nint n = PRead(fd, p + done, buffer.Length - done, offset + done);
                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == Errno.EINTR)
                        continue;
                    throw SyscallException.FromLastError("pread", nameForErrors);
                }
                if (n == 0)
                    break;
                done += (int)n;
            }
            return done;
        }
    }
}
