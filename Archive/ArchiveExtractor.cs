using Wsd.Interop;
using Wsd.Linux;

namespace Wsd.Archive;

/// <summary>
/// Restores a tar stream into a directory (docs/decisions.md#archives,
/// docs/compatibility.md#extracting-archives) without ever leaving it: every parent is opened beneath the
/// destination with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) (or an O_NOFOLLOW walk), every leaf is
/// created with O_EXCL/O_NOFOLLOW semantics after removing what was there, so a symlink planted by an
/// earlier member is never written through. Directory modes and times are applied once the stream has
/// left the directory, deepest first, so directories without owner-write still fill
/// (<see cref="DeferredDirectories"/>).
/// </summary>
public sealed unsafe class ArchiveExtractor : IDisposable
{
    readonly ArchiveReadOptions _options;
    readonly TarInput _input;
    readonly TarEntryReader _reader;
    readonly TarEntry _entry = new();
    readonly ArchiveStats _stats;
    readonly int _root;
    readonly byte[] _name = new byte[TarEntry.MaxNameLength + 1];
    readonly byte[] _linkTargetName = new byte[TarEntry.MaxNameLength + 1];
    readonly byte[] _parentPath = new byte[TarEntry.MaxNameLength + 1];
    int _parentPathLength = -1;
    int _parentFd = -1;
    readonly DeferredDirectories _directories = new();
    readonly FileFinisher _finisher;
    DeferredDirectories.Entry? _finishing;

    /// <summary>What error messages name: the current member, or the directory being finished. Built only when needed.</summary>
    string Current => _finishing is { } directory
        ? directory.Length == 0 ? "." : NameNormalizer.Display(_directories.PathOf(directory))
        : _entry.DisplayName;

    ArchiveExtractor(Stream source, string destination, ArchiveReadOptions options)
    {
        _options = options;
        _stats = options.Progress ?? new ArchiveStats();
        Directory.CreateDirectory(destination);
        _root = Directories.Open(destination);
        _input = new TarInput(source);
        _reader = new TarEntryReader(_input, options.MaxPaxHeaderBytes);
        _finisher = new FileFinisher(options.Xattrs);
    }

    /// <summary>Extracts <paramref name="source"/> into <paramref name="destination"/> (created if missing).</summary>
    public static ArchiveStats Extract(Stream source, string destination, ArchiveReadOptions? options = null)
    {
        using var extractor = new ArchiveExtractor(source, destination, options ?? new ArchiveReadOptions());
        return extractor.Run();
    }

    ArchiveStats Run()
    {
        while (_reader.Next(_entry))
        {
            _stats.Entries++;
            Restore();
        }
        _input.Drain();
        _stats.TarBytes = _input.Position;
        _finisher.Complete();
        while (_directories.PopAny() is { } directory)
            Finish(directory);
        return _stats;
    }

    void Restore()
    {
        int length = NameNormalizer.Normalize(_entry.NameSpan, _name, out int lastSlash);
        _name[length] = 0;
        var parent = lastSlash < 0 ? ReadOnlySpan<byte>.Empty : _name.AsSpan(0, lastSlash);
        byte type = _entry.Type;
        while (_directories.PopLeft(_name.AsSpan(0, length)) is { } left)
            Finish(left);

        if (length == 0)
        {
            // "./": the destination itself. Only a directory may describe it.
            if (type != TarFormat.TypeDirectory && type != TarFormat.TypeGnuDumpDir)
                throw new ArchiveException($"member '{Current}' would replace the destination directory itself");
            ChownAt(_root, null, 0);
            RestoreDirectoryXattrs(_root, null);
            Defer(ReadOnlySpan<byte>.Empty);
            SkipData();
            return;
        }

        int parentFd = ParentDirectory(parent);
        if (!parent.IsEmpty && _directories.MayBeFinished(parent))
            Redefer(parentFd, parent);
        fixed (byte* leaf = _name.AsSpan(lastSlash + 1))
        {
            switch (type)
            {
                case TarFormat.TypeRegular or TarFormat.TypeRegularOld or TarFormat.TypeContiguous:
                    RestoreRegular(parentFd, leaf);
                    return;
                case TarFormat.TypeDirectory or TarFormat.TypeGnuDumpDir:
                    RestoreDirectory(parentFd, leaf, _name.AsSpan(0, length));
                    SkipData();
                    return;
                case TarFormat.TypeSymlink:
                    RestoreSymlink(parentFd, leaf);
                    SkipData();
                    return;
                case TarFormat.TypeHardLink:
                    RestoreHardLink(parentFd, leaf);
                    SkipData();
                    return;
                case TarFormat.TypeFifo:
                    RestoreNode(parentFd, leaf, StatMode.Fifo, 0);
                    SkipData();
                    return;
                case TarFormat.TypeCharDevice or TarFormat.TypeBlockDevice:
                    if (!_options.AllowDevices)
                        _stats.DevicesSkipped++;
                    else
                        RestoreNode(parentFd, leaf, type == TarFormat.TypeCharDevice ? StatMode.CharDevice : StatMode.BlockDevice,
                            Devices.Make(_entry.DevMajor, _entry.DevMinor));
                    SkipData();
                    return;
                default:
                    // Volume labels, multi-volume continuations and unknown vendor types carry
                    // nothing wsd can restore faithfully.
                    _stats.UnknownTypesSkipped++;
                    SkipData();
                    return;
            }
        }
    }

    void SkipData() => _input.Skip(_entry.Size + TarFormat.PaddingOf(_entry.Size));

    void RestoreRegular(int parentFd, byte* leaf)
    {
        int fd = CreateLeaf(LeafKind.File, parentFd, leaf);
        try
        {
            if (_entry.IsSparse)
            {
                // Holes stay holes: the size is set once, only the data regions are written.
                if (Libc.FTruncate(fd, _entry.SparseRealSize) != 0)
                {
                    if (Errno.Last is Errno.EFBIG or Errno.EINVAL)
                        throw new ArchiveException($"sparse member '{Current}' of {_entry.SparseRealSize} bytes is larger than the destination file system allows");
                    throw SyscallException.FromLastError("ftruncate", Current);
                }
                foreach (var (start, size) in _entry.SparseMap)
                    _input.CopyTo(fd, size, start, _entry.NameSpan);
                _stats.DataBytes += _entry.Size;
                _stats.SparseFiles++;
            }
            else
            {
                _input.CopyTo(fd, _entry.Size, -1, _entry.NameSpan);
                _stats.DataBytes += _entry.Size;
            }
            _input.Skip(TarFormat.PaddingOf(_entry.Size));
        }
        catch
        {
            Libc.Close(fd);
            throw;
        }

        bool chown = _options.RestoreOwners;
        uint uid = chown ? HostUid() : 0, gid = chown ? HostGid() : 0;
        _finisher.Enqueue(new FileFinisher.Job(fd, chown, uid, gid, _entry.Mode, _entry.MtimeSeconds, _entry.MtimeNanoseconds,
            _entry.Xattrs.Count > 0 ? [.. _entry.Xattrs] : null));
        _stats.Files++;
    }

    void RestoreDirectory(int parentFd, byte* leaf, ReadOnlySpan<byte> path)
    {
        if (Libc.MkdirAt(parentFd, leaf, 0x1C0) != 0)
        {
            int errno = Errno.Last;
            if (errno != Errno.EEXIST)
                throw SyscallException.FromLastError("mkdirat", Current);
            StatxBuffer st;
            if (Libc.Statx(parentFd, leaf, AtFlags.SymlinkNoFollow, StatxMask.BasicStats, &st) != 0)
                throw SyscallException.FromLastError("statx", Current);
            if (st.FileType != StatMode.Directory)
            {
                RemoveExisting(parentFd, leaf);
                if (Libc.MkdirAt(parentFd, leaf, 0x1C0) != 0)
                    throw SyscallException.FromLastError("mkdirat", Current);
            }
        }
        ChownAt(parentFd, leaf, AtFlags.SymlinkNoFollow);
        RestoreDirectoryXattrs(parentFd, leaf);
        Defer(path);
        _stats.Directories++;
    }

    /// <summary>
    /// A directory's xattrs go on at once, after its owner (chown clears security.capability): they
    /// do not move its mtime, and keeping them until the directory is finished would hold up to a
    /// PAX header's worth per level of the path.
    /// </summary>
    void RestoreDirectoryXattrs(int parentFd, byte* leaf)
    {
        if (!_options.Xattrs || _entry.Xattrs.Count == 0)
            return;
        int fd = parentFd;
        if (leaf is not null)
        {
            fd = BeneathRoot.TryOpenEntry(parentFd, leaf, OpenFlags.ReadOnly | OpenFlags.Directory, out int errno);
            if (fd < 0)
                throw new SyscallException("openat", Current, errno);
        }
        try
        {
            XattrPolicy.Restore(fd, _entry.Xattrs, () => Current);
        }
        finally
        {
            if (fd != parentFd)
                Libc.Close(fd);
        }
    }

    void RestoreSymlink(int parentFd, byte* leaf)
    {
        NulTerminated(_entry.LinkNameSpan, _linkTargetName);
        CreateLeaf(LeafKind.Symlink, parentFd, leaf);
        ChownAt(parentFd, leaf, AtFlags.SymlinkNoFollow);
        SetTimes(parentFd, leaf, AtFlags.SymlinkNoFollow);
        _stats.Symlinks++;
    }

    void RestoreHardLink(int parentFd, byte* leaf)
    {
        // The target must itself lie beneath the destination, resolved without symlinks.
        int length = NameNormalizer.Normalize(_entry.LinkNameSpan, _linkTargetName, out int lastSlash, "hard link target");
        if (length == 0)
            throw new ArchiveException($"hard link '{Current}' points at the destination directory itself");
        _linkTargetName[length] = 0;
        _linkParent = lastSlash < 0 ? _root : OpenBeneath(_linkTargetName.AsSpan(0, lastSlash), create: false);
        _linkLeafOffset = lastSlash + 1;
        try
        {
            CreateLeaf(LeafKind.HardLink, parentFd, leaf);
        }
        finally
        {
            if (_linkParent != _root)
                Libc.Close(_linkParent);
        }
        _stats.HardLinks++;
    }

    void RestoreNode(int parentFd, byte* leaf, uint type, ulong device)
    {
        _nodeMode = type | 0x180;
        _nodeDevice = device;
        CreateLeaf(LeafKind.Node, parentFd, leaf);
        ChownAt(parentFd, leaf, AtFlags.SymlinkNoFollow);
        // The node was just created in a directory only wsd writes to; chmod by name is safe here.
        if (Libc.FChmodAt(parentFd, leaf, _entry.Mode, 0) != 0)
            throw SyscallException.FromLastError("fchmodat", Current);
        SetTimes(parentFd, leaf, AtFlags.SymlinkNoFollow);
        _stats.SpecialFiles++;
    }

    enum LeafKind { File, Symlink, HardLink, Node }

    // Arguments of the leaf being created, beyond its name (set by the Restore* method).
    int _linkParent;
    int _linkLeafOffset;
    uint _nodeMode;
    ulong _nodeDevice;

    int TryCreate(LeafKind kind, int parentFd, byte* leaf)
    {
        switch (kind)
        {
            case LeafKind.File:
                return Libc.OpenAt(parentFd, leaf, OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoFollow | OpenFlags.CloseOnExec, 0x180);
            case LeafKind.Symlink:
                fixed (byte* target = _linkTargetName)
                    return Libc.SymlinkAt(target, parentFd, leaf);
            case LeafKind.HardLink:
                // flags 0: a symlink target is linked as the symlink, never followed.
                fixed (byte* target = _linkTargetName.AsSpan(_linkLeafOffset))
                    return Libc.LinkAt(_linkParent, target, parentFd, leaf, 0);
            default:
                return Libc.MknodAt(parentFd, leaf, _nodeMode, _nodeDevice);
        }
    }

    /// <summary>Creates the leaf; when the name is taken, removes what is there (never following it) and tries once more.</summary>
    int CreateLeaf(LeafKind kind, int parentFd, byte* leaf)
    {
        int result = TryCreate(kind, parentFd, leaf);
        if (result >= 0)
            return result;
        int errno = Errno.Last;
        if (errno == Errno.EEXIST)
        {
            RemoveExisting(parentFd, leaf);
            result = TryCreate(kind, parentFd, leaf);
            if (result >= 0)
                return result;
            errno = Errno.Last;
        }
        if (kind == LeafKind.HardLink && errno == Errno.ENOENT)
            throw new ArchiveException($"hard link '{Current}' points at '{NameNormalizer.Display(_entry.LinkNameSpan)}', which is not in the archive before it");
        throw new SyscallException("create", Current, errno);
    }

    void RemoveExisting(int parentFd, byte* leaf)
    {
        if (Libc.UnlinkAt(parentFd, leaf, 0) == 0)
            return;
        int errno = Errno.Last;
        if (errno == Errno.EISDIR && Libc.UnlinkAt(parentFd, leaf, AtFlags.RemoveDir) == 0)
            return;
        errno = Errno.Last;
        if (errno is Errno.ENOTEMPTY or Errno.EEXIST)
            throw new ArchiveException($"member '{Current}' would replace a directory that is not empty");
        throw new SyscallException("unlinkat", Current, errno);
    }

    /// <summary>The directory that holds the current member, from a one-entry cache (members come grouped by directory).</summary>
    int ParentDirectory(ReadOnlySpan<byte> parent)
    {
        if (parent.IsEmpty)
            return _root;
        if (_parentFd >= 0 && parent.SequenceEqual(_parentPath.AsSpan(0, _parentPathLength)))
            return _parentFd;
        int fd = OpenBeneath(parent, create: true);
        if (_parentFd >= 0)
            Libc.Close(_parentFd);
        _parentFd = fd;
        parent.CopyTo(_parentPath);
        _parentPathLength = parent.Length;
        return fd;
    }

    /// <summary>Opens a directory beneath the destination, refusing any symlink on the way; creates missing ones when asked.</summary>
    int OpenBeneath(ReadOnlySpan<byte> path, bool create)
    {
        // A parent the archive does not list is made like tar makes it (0755).
        int fd = BeneathRoot.TryOpenDirectory(_root, path, create ? 0x1EDu : null, out var failure);
        if (fd >= 0)
            return fd;
        throw failure.Call switch
        {
            "mkdirat" => new SyscallException("mkdirat", Current, failure.Errno),
            "openat" when failure.Errno == Errno.ENAMETOOLONG => new ArchiveException($"a path component of '{Current}' is longer than 255 bytes"),
            _ => Refused(failure.Errno, path),
        };
    }

    Exception Refused(int errno, ReadOnlySpan<byte> parent) => errno switch
    {
        Errno.ELOOP => new ArchiveException($"member '{Current}' lies below a symlink ('{NameNormalizer.Display(parent)}'); refusing to write through it"),
        Errno.EXDEV => new ArchiveException($"member '{Current}' would leave the destination"),
        Errno.ENOTDIR => new ArchiveException($"member '{Current}' lies below '{NameNormalizer.Display(parent)}', which is not a directory"),
        Errno.ENOENT => new ArchiveException($"'{NameNormalizer.Display(parent)}' does not exist for member '{Current}'"),
        _ => new SyscallException("openat2", NameNormalizer.Display(parent), errno),
    };

    void ChownAt(int fd, byte* leaf, int flags)
    {
        if (!_options.RestoreOwners)
            return;
        byte empty = 0;
        int result = leaf is null
            ? Libc.FChownAt(fd, &empty, HostUid(), HostGid(), AtFlags.EmptyPath)
            : Libc.FChownAt(fd, leaf, HostUid(), HostGid(), flags);
        if (result != 0)
            throw SyscallException.FromLastError("fchownat", _entry.DisplayName);
    }

    uint HostUid()
    {
        uint container = (uint)Math.Min(_entry.Uid, uint.MaxValue);
        if (!_options.Uids.TryToHost(container, out uint host) | !_options.Gids.TryToHost((uint)Math.Min(_entry.Gid, uint.MaxValue), out _))
            _stats.NoteUnmapped(_entry.NameSpan);
        return host;
    }

    uint HostGid()
    {
        _options.Gids.TryToHost((uint)Math.Min(_entry.Gid, uint.MaxValue), out uint host);
        return host;
    }

    void SetTimes(int fd, byte* leaf, int flags)
    {
        var times = stackalloc TimeSpec[2];
        times[0] = new TimeSpec { Seconds = 0, Nanoseconds = TimeSpecValues.Omit };
        times[1] = new TimeSpec { Seconds = _entry.MtimeSeconds, Nanoseconds = _entry.MtimeNanoseconds };
        int result = leaf is null ? Libc.FUtimens(fd, times) : Libc.UtimensAt(fd, leaf, times, flags);
        if (result != 0)
            throw SyscallException.FromLastError("utimensat", Current);
    }

    void Defer(ReadOnlySpan<byte> path) =>
        _directories.Defer(path, _entry.Mode, _entry.MtimeSeconds, _entry.MtimeNanoseconds);

    /// <summary>
    /// The stream came back into a directory that may be finished already (an archive not written
    /// depth-first): defer it again with the mode and mtime it has now, owner-writable meanwhile.
    /// </summary>
    void Redefer(int fd, ReadOnlySpan<byte> path)
    {
        StatxBuffer st;
        if (Libc.StatxFd(fd, &st) != 0)
            throw SyscallException.FromLastError("statx", path);
        uint mode = st.Mode & StatMode.PermissionMask;
        if ((mode & 0x1C0) != 0x1C0 && Libc.FChmod(fd, mode | 0x1C0) != 0)
            throw SyscallException.FromLastError("fchmod", path);
        _directories.Defer(path, mode, st.MtimeSeconds, (int)st.MtimeNanoseconds);
    }

    /// <summary>A directory's mode and times, once nothing more is written into it.</summary>
    void Finish(DeferredDirectories.Entry directory)
    {
        var path = _directories.PathOf(directory);
        int fd;
        try
        {
            _finishing = directory;
            fd = path.IsEmpty ? _root : OpenBeneath(path, create: false);
        }
        catch (ArchiveException)
        {
            return; // replaced by a later member; that member's metadata stands
        }
        finally
        {
            _finishing = null;
        }
        try
        {
            if (Libc.FChmod(fd, directory.Mode) != 0)
                throw SyscallException.FromLastError("fchmod", path);
            var times = stackalloc TimeSpec[2];
            times[0] = new TimeSpec { Nanoseconds = TimeSpecValues.Omit };
            times[1] = new TimeSpec { Seconds = directory.MtimeSeconds, Nanoseconds = directory.MtimeNanoseconds };
            if (Libc.FUtimens(fd, times) != 0)
                throw SyscallException.FromLastError("futimens", path);
        }
        finally
        {
            if (fd != _root)
                Libc.Close(fd);
        }
    }

    static Span<byte> NulTerminated(ReadOnlySpan<byte> text, byte[] buffer)
    {
        text.CopyTo(buffer);
        buffer[text.Length] = 0;
        return buffer.AsSpan(0, text.Length + 1);
    }

    public void Dispose()
    {
        _finisher.Dispose();
        _input.Dispose();
        if (_parentFd >= 0)
            Libc.Close(_parentFd);
        Libc.Close(_root);
    }
}
