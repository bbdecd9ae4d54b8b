using Microsoft.Win32.SafeHandles;

namespace Wsd.Interop;

/// <summary>Close-on-exec pipes for a child's output, and a stream over the read end.</summary>
public static unsafe partial class Pipes
{
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2(int* fds, int flags);

    public static (int Read, int Write) Create()
    {
        var fds = stackalloc int[2];
        if (Pipe2(fds, OpenFlags.CloseOnExec) != 0)
            throw SyscallException.FromLastError("pipe2", "child output");
        return (fds[0], fds[1]);
    }

    public static FileStream Reader(int fd) => new(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Read, bufferSize: 0);
}
