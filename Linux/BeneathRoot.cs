using Wsd.Interop;

namespace Wsd.Linux;

/// <summary>
/// Opening and creating paths the user controls beneath a directory the daemon trusts, by
/// descriptor, so that a user who swaps a component for a symlink at any moment cannot make root
/// act outside it. Paths are resolved with openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|
/// RESOLVE_NO_MAGICLINKS; where the kernel has no openat2 (before 5.6), one component at a time with
/// O_NOFOLLOW. Every descriptor returned is close-on-exec and the caller's to close.
/// </summary>
public static unsafe class BeneathRoot
{
    /// <summary>ENXIO: a FIFO opened O_WRONLY|O_NONBLOCK with no reader.</summary>
    const int NoReader = 6;

    const ulong Resolve = ResolveFlags.Beneath | ResolveFlags.NoSymlinks | ResolveFlags.NoMagicLinks;

    /// <summary>
    /// Opens <paramref name="relative"/> beneath <paramref name="rootFd"/> with open(2) <paramref name="flags"/>.
    /// A symlink anywhere on the way, or a ".." that would leave the root, is an error (ELOOP, EXDEV).
    /// </summary>
    public static int Open(int rootFd, string relative, int flags)
    {
        var how = new OpenHow { Flags = (ulong)(flags | OpenFlags.CloseOnExec), Resolve = Resolve };
        fixed (byte* p = CStrings.Of(Normalize(relative)))
        {
            int fd = Libc.OpenAt2(rootFd, p, &how);
            if (fd >= 0)
                return fd;
        }
        if (Errno.Last != Errno.ENOSYS)
            throw SyscallException.FromLastError("openat2", relative);
        return OpenByWalk(rootFd, relative, flags);
    }

    /// <summary>
    /// The fallback of <see cref="Open"/>: each component opened with O_NOFOLLOW from the one before.
    /// ".." is refused outright here, as a walk cannot tell where it would lead.
    /// </summary>
    public static int OpenByWalk(int rootFd, string relative, int flags)
    {
        var parts = Components(relative);
        if (parts.Length == 0)
            return Reopen(rootFd, ".", flags, relative);
        int current = rootFd;
        try
        {
            for (int i = 0; i < parts.Length - 1; i++)
            {
                int next = Reopen(current, parts[i], OpenFlags.Path | OpenFlags.Directory, relative);
                if (current != rootFd)
                    Libc.Close(current);
                current = next;
            }
            return Reopen(current, parts[^1], flags, relative);
        }
        finally
        {
            if (current != rootFd)
                Libc.Close(current);
        }
    }

    /// <summary>
    /// Creates the directories of <paramref name="relative"/> beneath <paramref name="rootFd"/> that
    /// are missing, with <paramref name="mode"/>, each handed to <paramref name="uid"/>:<paramref name="gid"/>
    /// when the daemon runs as root (existing ones are left as they are), and returns a descriptor
    /// of the last. An existing component that is a symlink or no directory is an error (ELOOP, ENOTDIR).
    /// </summary>
    public static int CreateDirectories(int rootFd, string relative, uint mode, uint uid, uint gid)
    {
        int current = Reopen(rootFd, ".", OpenFlags.ReadOnly | OpenFlags.Directory, relative);
        try
        {
            foreach (var part in Components(relative))
            {
                fixed (byte* n = CStrings.Of(part))
                {
                    bool created = Libc.MkdirAt(current, n, mode) == 0;
                    if (!created && Errno.Last != Errno.EEXIST)
                        throw SyscallException.FromLastError("mkdirat", relative);
                    int next = Reopen(current, part, OpenFlags.ReadOnly | OpenFlags.Directory, relative);
                    Libc.Close(current);
                    current = next;
                    if (created && Libc.GetEuid() == 0 && Libc.FChown(current, uid, gid) != 0)
                        throw SyscallException.FromLastError("fchown", relative);
                }
            }
            int result = current;
            current = -1;
            return result;
        }
        finally
        {
            if (current >= 0)
                Libc.Close(current);
        }
    }

    /// <summary>An open file and what fstat found it to be.</summary>
    public readonly record struct Leaf(int Fd, uint FileType, long Size)
    {
        public bool IsRegular => FileType == StatMode.Regular;
    }

    /// <summary>
    /// Opens the entry <paramref name="name"/> of directory <paramref name="directoryFd"/> with
    /// O_NOFOLLOW|O_NONBLOCK added to <paramref name="flags"/>, so that neither a symlink nor a FIFO
    /// with no writer can redirect or block the open, and fstats the descriptor: the type comes from
    /// what was opened, not from a look at the name before.
    /// </summary>
    public static Leaf OpenLeaf(int directoryFd, string name, int flags)
    {
        if (name.Length == 0 || name.Contains('/') || name is "." or "..")
            throw new ArgumentException($"\"{name}\" is not a single directory entry", nameof(name));
        int fd = Reopen(directoryFd, name, flags | OpenFlags.NonBlock | OpenFlags.NoCtty, name);
        var stat = new StatxBuffer();
        if (Libc.StatxFd(fd, &stat) != 0)
        {
            var failure = SyscallException.FromLastError("statx", name);
            Libc.Close(fd);
            throw failure;
        }
        return new Leaf(fd, stat.FileType, (long)stat.Size);
    }

    /// <summary>
    /// Creates (or truncates) the regular file <paramref name="name"/> in directory
    /// <paramref name="directoryFd"/> for writing and returns its descriptor. Whatever else is there
    /// (a symlink, a FIFO, a device) is removed and never opened through: O_NOFOLLOW|O_NONBLOCK, and
    /// the type checked with fstat on the descriptor.
    /// </summary>
    public static int CreateRegularFile(int directoryFd, string name, uint mode)
    {
        for (int attempt = 0; ; attempt++)
        {
            fixed (byte* n = CStrings.Of(name))
            {
                int fd = Libc.OpenAt(directoryFd, n, OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.Truncate | OpenFlags.NoFollow
                    | OpenFlags.NonBlock | OpenFlags.NoCtty | OpenFlags.CloseOnExec, mode);
                int errno = fd < 0 ? Errno.Last : 0;
                if (fd >= 0)
                {
                    var stat = new StatxBuffer();
                    if (Libc.StatxFd(fd, &stat) == 0 && stat.FileType == StatMode.Regular)
                        return fd;
                    Libc.Close(fd);
                }
                else if (errno is not (Errno.ELOOP or NoReader or Errno.EISDIR) || attempt > 0)
                {
                    throw new SyscallException("openat", name, errno);
                }
                if (attempt > 0)
                    throw new SyscallException("openat", name + " (not a regular file)", Errno.EEXIST);
                // Not a regular file: it goes, and the file is made anew in its place.
                if (Libc.UnlinkAt(directoryFd, n, errno == Errno.EISDIR ? AtFlags.RemoveDir : 0) != 0 && Errno.Last != Errno.ENOENT)
                    throw SyscallException.FromLastError("unlinkat", name);
            }
        }
    }

    // openat of one name (or ".") in a directory, never following a symlink there.
    static int Reopen(int directoryFd, string name, int flags, string pathForErrors)
    {
        fixed (byte* n = CStrings.Of(name))
        {
            int fd = Libc.OpenAt(directoryFd, n, flags | OpenFlags.NoFollow | OpenFlags.CloseOnExec, 0);
            return fd >= 0 ? fd : throw SyscallException.FromLastError("openat", pathForErrors);
        }
    }

    static string Normalize(string relative)
    {
        var parts = Components(relative, allowDotDot: true);
        return parts.Length == 0 ? "." : string.Join('/', parts);
    }

    // A relative path's components: no empty or "." ones; an absolute path or a NUL is refused.
    static string[] Components(string relative, bool allowDotDot = false)
    {
        if (relative.StartsWith('/') || relative.Contains('\0'))
            throw new ArgumentException($"\"{relative}\" is not a relative path", nameof(relative));
        var parts = relative.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
        if (!allowDotDot && parts.Contains(".."))
            throw new SyscallException("openat", relative, Errno.EXDEV);
        return parts;
    }
}
