using System.Text;

namespace Wsd.Interop;

/// <summary>Opening directories by descriptor, the starting point of every *at() walk in wsd.</summary>
public static unsafe class Directories
{
    /// <summary>
    /// Opens <paramref name="path"/> (relative to <paramref name="parent"/>, or absolute) as a
    /// readable directory descriptor. Without <paramref name="followSymlink"/> a symlink there is an error.
    /// </summary>
    public static int Open(string path, int parent = AtFlags.CurrentDirectory, bool followSymlink = true)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        int flags = OpenFlags.ReadOnly | OpenFlags.Directory | OpenFlags.CloseOnExec | (followSymlink ? 0 : OpenFlags.NoFollow);
        fixed (byte* p = bytes)
        {
            int fd = Libc.OpenAt(parent, p, flags, 0);
            if (fd < 0)
                throw SyscallException.FromLastError("open", path);
            return fd;
        }
    }

    /// <summary>Opens <paramref name="path"/> read-only, close-on-exec (namespace files, /proc entries).</summary>
    public static int OpenFile(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            int fd = Libc.OpenAt(AtFlags.CurrentDirectory, p, OpenFlags.ReadOnly | OpenFlags.CloseOnExec, 0);
            if (fd < 0)
                throw SyscallException.FromLastError("open", path);
            return fd;
        }
    }

    /// <summary>An O_PATH descriptor of <paramref name="path"/> (following a final magic link such as /proc/PID/root).</summary>
    public static int OpenPath(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            int fd = Libc.OpenAt(AtFlags.CurrentDirectory, p, OpenFlags.Path | OpenFlags.CloseOnExec, 0);
            if (fd < 0)
                throw SyscallException.FromLastError("open", path);
            return fd;
        }
    }
}
