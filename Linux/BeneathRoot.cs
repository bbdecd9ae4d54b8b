using Wsd.Interop;

namespace Wsd.Linux;

/// <summary>
/// Opening and creating paths the user controls beneath a directory the daemon trusts, by
/// descriptor, so that a user who swaps a component for a symlink at any moment cannot make root
/// act outside it. Paths are resolved with openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|
/// RESOLVE_NO_MAGICLINKS; where the kernel has no openat2 (before 5.6), one component at a time with
/// O_NOFOLLOW. Every descriptor returned is close-on-exec and the caller's to close.
/// <para>
/// This is the daemon's one walker: the extractor, the content paths, the ready marker, the
/// container root and the tree removal take their steps through it (<see cref="TryOpenEntry"/> is
/// the step, the walk is made of nothing else). Paths inside a container's root, where the
/// container's own symlinks are meant to resolve as if it were "/", go through <see cref="OpenInRoot"/>.
/// </para>
/// </summary>
public static unsafe class BeneathRoot
{
    /// <summary>What opening a FIFO O_WRONLY|O_NONBLOCK with no reader fails with.</summary>
    const int NoReader = Errno.ENXIO;

    /// <summary>NAME_MAX: a longer component is refused (ENAMETOOLONG) before it is tried, as the kernel refuses it.</summary>
    const int NameMax = 255;

    /// <summary>PATH_MAX: paths up to it are copied on the stack.</summary>
    const int PathMax = 4096;

    const ulong Resolve = ResolveFlags.Beneath | ResolveFlags.NoSymlinks | ResolveFlags.NoMagicLinks;

    /// <summary>Directories opened to be used, not only passed through (which O_PATH is enough for).</summary>
    const int DirectoryFlags = OpenFlags.ReadOnly | OpenFlags.Directory;

    /// <summary>Where a walk stopped: the call that failed (openat2, openat, mkdirat, fchown) and its errno.</summary>
    public readonly record struct WalkFailure(string Call, int Errno)
    {
        public SyscallException ToException(string path) => new(Call, path, Errno);
    }

    // What a walk does about a missing directory: makes it with Mode and, with Chown and the daemon
    // running as root, hands it to Uid:Gid (directories that were there are left as they are).
    // With MkdirFirst each step tries mkdirat before the open (CreateDirectories, which expects to
    // make them: a component it cannot make is reported by mkdirat); without, mkdirat only follows
    // an open that found nothing (the extractor, whose parents are mostly there).
    readonly record struct Making(uint Mode, bool MkdirFirst, bool Chown, uint Uid = 0, uint Gid = 0);

    /// <summary>
    /// Opens <paramref name="relative"/> beneath <paramref name="rootFd"/> with open(2) <paramref name="flags"/>.
    /// A symlink anywhere on the way, or a ".." that would leave the root, is an error (ELOOP, EXDEV).
    /// Errors name <paramref name="pathForErrors"/>, by default <paramref name="relative"/>.
    /// </summary>
    public static int Open(int rootFd, string relative, int flags, string? pathForErrors = null)
    {
        fixed (byte* p = CStrings.Of(Normalize(relative)))
        {
            int fd = TryResolve(rootFd, p, flags, Resolve, out int errno);
            if (fd >= 0)
                return fd;
            if (errno != Errno.ENOSYS)
                throw new SyscallException("openat2", pathForErrors ?? relative, errno);
        }
        return Walk(rootFd, relative, OpenFlags.Path | OpenFlags.Directory, flags, null, pathForErrors ?? relative);
    }

    /// <summary>
    /// The fallback of <see cref="Open"/>: each component opened with O_NOFOLLOW from the one before.
    /// ".." is refused outright here, as a walk cannot tell where it would lead.
    /// </summary>
    public static int OpenByWalk(int rootFd, string relative, int flags) =>
        Walk(rootFd, relative, OpenFlags.Path | OpenFlags.Directory, flags, null, relative);

    /// <summary>
    /// Creates the directories of <paramref name="relative"/> beneath <paramref name="rootFd"/> that
    /// are missing, with <paramref name="mode"/>, each handed to <paramref name="uid"/>:<paramref name="gid"/>
    /// when the daemon runs as root (existing ones are left as they are), and returns a descriptor
    /// of the last. An existing component that is a symlink or no directory is an error (ELOOP, ENOTDIR).
    /// </summary>
    public static int CreateDirectories(int rootFd, string relative, uint mode, uint uid, uint gid) =>
        Walk(rootFd, relative, DirectoryFlags, DirectoryFlags, new Making(mode, MkdirFirst: true, Chown: true, uid, gid), relative);

    /// <summary>
    /// Opens the directory <paramref name="relative"/> beneath <paramref name="rootFd"/> for a hot path
    /// that holds its paths as bytes (the extractor's member names): nothing is allocated and nothing
    /// thrown for what the file system answers. openat2 first, as <see cref="Open"/>; the walk where
    /// the kernel has no openat2 and, given <paramref name="createMode"/>, where a directory is
    /// missing, making each missing one with that mode (owned by the daemon: owners are the caller's
    /// business). Returns an O_RDONLY|O_DIRECTORY descriptor, or -1 with <paramref name="failure"/>:
    /// openat2 for the first try, openat or mkdirat for a step of the walk, which also refuses ".."
    /// (EXDEV) and a component longer than 255 bytes (ENAMETOOLONG).
    /// </summary>
    public static int TryOpenDirectory(int rootFd, ReadOnlySpan<byte> relative, uint? createMode, out WalkFailure failure)
    {
        RequireRelative(relative);
        var target = relative.IsEmpty ? "."u8 : relative;
        Span<byte> path = target.Length <= PathMax ? stackalloc byte[target.Length + 1] : new byte[target.Length + 1];
        target.CopyTo(path);
        path[^1] = 0;
        fixed (byte* p = path)
        {
            int fd = TryResolve(rootFd, p, DirectoryFlags, Resolve, out int errno);
            failure = default;
            if (fd >= 0)
                return fd;
            if (errno != Errno.ENOSYS && (errno != Errno.ENOENT || createMode is null))
            {
                failure = new WalkFailure("openat2", errno);
                return -1;
            }
        }
        return Walk(rootFd, relative, DirectoryFlags, DirectoryFlags, createMode is { } mode ? new Making(mode, MkdirFirst: false, Chown: false) : null, out failure);
    }

    /// <summary>
    /// Opens <paramref name="path"/> inside the directory <paramref name="rootFd"/> as if it were "/"
    /// (a container's root) with openat2 RESOLVE_IN_ROOT: "..", absolute symlinks and magic links
    /// all stay inside it; with <paramref name="noSymlinks"/>, a symlink anywhere on the way is an
    /// error (ELOOP). There is no walk to fall back on: a kernel without openat2 fails (ENOSYS).
    /// Errors name <paramref name="pathForErrors"/>.
    /// </summary>
    public static int OpenInRoot(int rootFd, string path, int flags, bool noSymlinks, string pathForErrors)
    {
        ulong resolve = ResolveFlags.InRoot | ResolveFlags.NoMagicLinks | (noSymlinks ? ResolveFlags.NoSymlinks : 0);
        fixed (byte* p = CStrings.Of(path))
        {
            int fd = TryResolve(rootFd, p, flags, resolve, out int errno);
            return fd >= 0 ? fd : throw new SyscallException("openat2", pathForErrors, errno);
        }
    }

    /// <summary>
    /// The step every walk here is made of: openat of the single entry <paramref name="name"/>
    /// (NUL-terminated) of directory <paramref name="directoryFd"/> with O_NOFOLLOW|O_CLOEXEC added to
    /// <paramref name="flags"/>. A symlink there is never followed: it is refused (ELOOP, or ENOTDIR
    /// with O_DIRECTORY), or with O_PATH alone opened as the symlink it is. Returns the descriptor,
    /// or -1 with <paramref name="errno"/>.
    /// </summary>
    public static int TryOpenEntry(int directoryFd, byte* name, int flags, out int errno)
    {
        int fd = Libc.OpenAt(directoryFd, name, flags | OpenFlags.NoFollow | OpenFlags.CloseOnExec, 0);
        errno = fd < 0 ? Errno.Last : 0;
        return fd;
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
            int fd = TryOpenEntry(directoryFd, n, flags, out int errno);
            return fd >= 0 ? fd : throw new SyscallException("openat", pathForErrors, errno);
        }
    }

    // The walk of a string path: refused as a whole before any step when it is absolute or holds a NUL.
    static int Walk(int rootFd, string relative, int throughFlags, int lastFlags, Making? making, string pathForErrors)
    {
        RequireRelative(relative);
        byte[] path = CStrings.Of(relative);
        int fd = Walk(rootFd, path.AsSpan(0, path.Length - 1), throughFlags, lastFlags, making, out var failure);
        return fd >= 0 ? fd : throw failure.ToException(pathForErrors);
    }

    // Each component opened from the one before with TryOpenEntry: those on the way with
    // throughFlags, the last with lastFlags; no components at all open "." of the root. Empty and
    // "." components are skipped; a ".." anywhere is refused before the first step (EXDEV). The
    // descriptor returned is never rootFd itself.
    static int Walk(int rootFd, ReadOnlySpan<byte> relative, int throughFlags, int lastFlags, Making? making, out WalkFailure failure)
    {
        failure = default;
        int count = 0;
        for (var rest = relative; NextComponent(ref rest, out var component);)
        {
            if (component is [(byte)'.', (byte)'.'])
            {
                failure = new WalkFailure("openat", Errno.EXDEV);
                return -1;
            }
            count++;
        }
        if (count == 0)
        {
            fixed (byte* dot = ".\0"u8)
            {
                int fd = TryOpenEntry(rootFd, dot, lastFlags, out int errno);
                if (fd < 0)
                    failure = new WalkFailure("openat", errno);
                return fd;
            }
        }
        Span<byte> name = stackalloc byte[NameMax + 1];
        int current = rootFd, index = 0;
        for (var rest = relative; NextComponent(ref rest, out var component);)
        {
            int next = -1;
            if (component.Length > NameMax)
            {
                failure = new WalkFailure(making is { MkdirFirst: true } ? "mkdirat" : "openat", Errno.ENAMETOOLONG);
            }
            else
            {
                component.CopyTo(name);
                name[component.Length] = 0;
                fixed (byte* n = name)
                    next = Step(current, n, ++index == count ? lastFlags : throughFlags, making, out failure);
            }
            if (current != rootFd)
                Libc.Close(current);
            if (next < 0)
                return -1;
            current = next;
        }
        return current;
    }

    // One step of a walk, making the directory first when it is missing and the walk makes them.
    static int Step(int directoryFd, byte* name, int flags, Making? making, out WalkFailure failure)
    {
        failure = default;
        var make = making.GetValueOrDefault();
        int errno = Errno.ENOENT;
        int fd = make.MkdirFirst ? -1 : TryOpenEntry(directoryFd, name, flags, out errno);
        bool made = false;
        if (fd < 0 && errno == Errno.ENOENT && making is not null)
        {
            // Someone else making it meanwhile (EEXIST) is as good; the open after says what it is.
            made = Libc.MkdirAt(directoryFd, name, make.Mode) == 0;
            int mkdirErrno = made ? 0 : Errno.Last;
            if (!made && mkdirErrno != Errno.EEXIST)
            {
                failure = new WalkFailure("mkdirat", mkdirErrno);
                return -1;
            }
            fd = TryOpenEntry(directoryFd, name, flags, out errno);
        }
        if (fd < 0)
        {
            failure = new WalkFailure("openat", errno);
            return -1;
        }
        if (made && make.Chown && Libc.GetEuid() == 0 && Libc.FChown(fd, make.Uid, make.Gid) != 0)
        {
            failure = new WalkFailure("fchown", Errno.Last);
            Libc.Close(fd);
            return -1;
        }
        return fd;
    }

    // The next non-empty, non-"." component of a path, advancing past it.
    static bool NextComponent(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> component)
    {
        while (!rest.IsEmpty)
        {
            int slash = rest.IndexOf((byte)'/');
            component = slash < 0 ? rest : rest[..slash];
            rest = slash < 0 ? default : rest[(slash + 1)..];
            if (!component.IsEmpty && component is not [(byte)'.'])
                return true;
        }
        component = default;
        return false;
    }

    // openat2 of a NUL-terminated path: the descriptor, or -1 with the errno (ENOSYS: no openat2 here).
    static int TryResolve(int rootFd, byte* path, int flags, ulong resolve, out int errno)
    {
        var how = new OpenHow { Flags = (ulong)(flags | OpenFlags.CloseOnExec), Resolve = resolve };
        int fd = Libc.OpenAt2(rootFd, path, &how);
        errno = fd < 0 ? Errno.Last : 0;
        return fd;
    }

    static string Normalize(string relative)
    {
        var parts = Components(relative);
        return parts.Length == 0 ? "." : string.Join('/', parts);
    }

    // A relative path's components: no empty or "." ones; an absolute path or a NUL is refused.
    static string[] Components(string relative)
    {
        RequireRelative(relative);
        return relative.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
    }

    static void RequireRelative(string relative)
    {
        if (relative.StartsWith('/') || relative.Contains('\0'))
            throw new ArgumentException($"\"{relative}\" is not a relative path", nameof(relative));
    }

    static void RequireRelative(ReadOnlySpan<byte> relative)
    {
        if ((!relative.IsEmpty && relative[0] == '/') || relative.IndexOf((byte)0) >= 0)
            throw new ArgumentException($"\"{SyscallException.Display(relative)}\" is not a relative path", nameof(relative));
    }
}
