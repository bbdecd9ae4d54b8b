namespace Wsd.Interop;

/// <summary>Opening directories (and the other things *at() calls and setns start from) by descriptor.</summary>
public static unsafe class Directories
{
    /// <summary>
    /// Opens <paramref name="path"/> (relative to <paramref name="parent"/>, or absolute) as a
    /// readable directory descriptor. Without <paramref name="followSymlink"/> a symlink there is an error.
    /// </summary>
    public static int Open(string path, int parent = AtFlags.CurrentDirectory, bool followSymlink = true) =>
        OpenAt(parent, path, OpenFlags.ReadOnly | OpenFlags.Directory | (followSymlink ? 0 : OpenFlags.NoFollow));

    /// <summary>Opens <paramref name="path"/> read-only, close-on-exec (namespace files, /proc entries).</summary>
    public static int OpenFile(string path) => OpenAt(AtFlags.CurrentDirectory, path, OpenFlags.ReadOnly);

    /// <summary>An O_PATH descriptor of <paramref name="path"/> (following a final magic link such as /proc/PID/root).</summary>
    public static int OpenPath(string path) => OpenAt(AtFlags.CurrentDirectory, path, OpenFlags.Path);

    static int OpenAt(int parent, string path, int flags)
    {
        fixed (byte* p = CStrings.Of(path))
        {
            int fd = Libc.OpenAt(parent, p, flags | OpenFlags.CloseOnExec, 0);
            if (fd < 0)
                throw SyscallException.FromLastError("open", path);
            return fd;
        }
    }
}
