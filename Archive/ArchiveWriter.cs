using System.Runtime.InteropServices;
using System.Text;
using Wsd.Interop;

namespace Wsd.Archive;

/// <summary>
/// Walks a directory and streams it as a POSIX/PAX tar (docs/decisions.md#archives,
/// docs/compatibility.md#creating-archives): entries in bytewise order, the root itself left out,
/// hardlinks stored once, sockets skipped, owners shifted to the workspace's view. Everything is done
/// through directory file descriptors with O_NOFOLLOW, so a workspace changing its tree while it is
/// archived cannot make the walk leave it.
/// </summary>
public sealed unsafe class ArchiveWriter : IDisposable
{
    const int DentsBufferSize = 64 * 1024;
    const int XattrListSize = 64 * 1024;

    readonly ArchiveWriteOptions _options;
    readonly TarOutput _output;
    readonly TarHeaderWriter _headers = new();
    readonly TarEntry _entry = new();
    readonly ArchiveStats _stats;
    readonly List<DirectoryListing> _listings = [];
    readonly ListingMemory _listingMemory;
    readonly Dictionary<(uint, uint, ulong), byte[]> _hardLinks = [];
    readonly byte[] _path = new byte[TarEntry.MaxNameLength + 2];
    int _pathLength;
    readonly byte* _dents;
    readonly byte* _xattrNames;
    readonly byte[] _linkTarget = new byte[TarEntry.MaxNameLength + 1];

    ArchiveWriter(Stream output, ArchiveWriteOptions options)
    {
        _options = options;
        _stats = options.Progress ?? new ArchiveStats();
        _listingMemory = new ListingMemory(options.SpillDirectory ?? Path.GetTempPath(), options.ListingMemoryBytes);
        _output = new TarOutput(output);
        _dents = (byte*)NativeMemory.Alloc(DentsBufferSize);
        _xattrNames = (byte*)NativeMemory.Alloc(XattrListSize);
    }

    /// <summary>Archives the contents of <paramref name="directory"/> into <paramref name="output"/>.</summary>
    public static ArchiveStats Write(string directory, Stream output, ArchiveWriteOptions? options = null)
    {
        using var writer = new ArchiveWriter(output, options ?? new ArchiveWriteOptions());
        return writer.Run(directory);
    }

    ArchiveStats Run(string directory)
    {
        int root = Directories.Open(directory);
        try
        {
            Walk(root, 0);
        }
        finally
        {
            Libc.Close(root);
        }
        _output.Finish();
        _stats.TarBytes = _output.Position;
        return _stats;
    }

    void Walk(int directoryFd, int depth)
    {
        if (_listings.Count == depth)
            _listings.Add(new DirectoryListing(_listingMemory));
        var listing = _listings[depth];
        listing.Load(directoryFd, _dents, DentsBufferSize, _path.AsSpan(0, _pathLength));

        while (listing.MoveNext())
        {
            int saved = _pathLength;
            AppendToPath(listing.Name());
            fixed (byte* name = listing.NameWithNul())
                Archive(directoryFd, name, listing.Type, depth);
            _pathLength = saved;
        }
    }

    void AppendToPath(ReadOnlySpan<byte> name)
    {
        int needed = _pathLength + (_pathLength > 0 ? 1 : 0) + name.Length;
        if (needed > TarEntry.MaxNameLength)
            throw new ArchiveException($"path longer than {TarEntry.MaxNameLength} bytes below {Encoding.UTF8.GetString(_path, 0, _pathLength)}");
        if (_pathLength > 0)
            _path[_pathLength++] = (byte)'/';
        name.CopyTo(_path.AsSpan(_pathLength));
        _pathLength += name.Length;
    }

    ReadOnlySpan<byte> PathSpan => _path.AsSpan(0, _pathLength);

    void Archive(int directoryFd, byte* name, byte direntType, int depth)
    {
        StatxBuffer st;
        int fd = -1;
        try
        {
            if (direntType is DirectoryListing.TypeRegular or DirectoryListing.TypeDirectory)
            {
                fd = OpenEntry(directoryFd, name, direntType == DirectoryListing.TypeDirectory);
                if (fd == -2)
                    return; // vanished
            }
            if (fd >= 0)
            {
                if (Libc.StatxFd(fd, &st) != 0)
                    throw SyscallException.FromLastError("statx", PathSpan);
            }
            else if (Libc.Statx(directoryFd, name, AtFlags.SymlinkNoFollow, StatxMask.BasicStats, &st) != 0)
            {
                if (Errno.Last == Errno.ENOENT)
                {
                    _stats.VanishedSkipped++;
                    return;
                }
                throw SyscallException.FromLastError("statx", PathSpan);
            }

            uint type = st.FileType;
            if (type == StatMode.Socket)
            {
                _stats.SocketsSkipped++;
                return;
            }
            if (fd < 0 && type is StatMode.Regular or StatMode.Directory)
            {
                // d_type was unknown (or changed): open it now that we know what it is.
                fd = OpenEntry(directoryFd, name, type == StatMode.Directory);
                if (fd == -2)
                    return;
                if (Libc.StatxFd(fd, &st) != 0)
                    throw SyscallException.FromLastError("statx", PathSpan);
                type = st.FileType;
            }

            FillCommon(in st);
            switch (type)
            {
                case StatMode.Regular:
                    ArchiveRegular(fd, in st);
                    break;
                case StatMode.Directory:
                    _entry.Type = TarFormat.TypeDirectory;
                    _entry.Name[_entry.NameLength++] = (byte)'/';
                    ReadXattrs(fd);
                    _headers.Write(_output, _entry);
                    _stats.Directories++;
                    _stats.Entries++;
                    Walk(fd, depth + 1);
                    break;
                case StatMode.Symlink:
                    ArchiveSymlink(directoryFd, name);
                    break;
                case StatMode.CharDevice or StatMode.BlockDevice:
                    _entry.Type = type == StatMode.CharDevice ? TarFormat.TypeCharDevice : TarFormat.TypeBlockDevice;
                    _entry.DevMajor = st.RdevMajor;
                    _entry.DevMinor = st.RdevMinor;
                    WriteHeaderOnly();
                    break;
                case StatMode.Fifo:
                    _entry.Type = TarFormat.TypeFifo;
                    WriteHeaderOnly();
                    break;
            }
        }
        finally
        {
            if (fd >= 0)
                Libc.Close(fd);
        }
    }

    /// <summary>Opens a regular file or directory without following a symlink; -2 when it vanished or changed type.</summary>
    int OpenEntry(int directoryFd, byte* name, bool directory)
    {
        int flags = OpenFlags.ReadOnly | OpenFlags.NoFollow | OpenFlags.NonBlock | OpenFlags.NoCtty | OpenFlags.CloseOnExec |
            (directory ? OpenFlags.Directory : 0);
        int fd = Libc.OpenAt(directoryFd, name, flags | OpenFlags.NoAtime, 0);
        if (fd < 0 && Errno.Last == Errno.EPERM)
            fd = Libc.OpenAt(directoryFd, name, flags, 0); // O_NOATIME needs ownership or CAP_FOWNER
        if (fd >= 0)
            return fd;
        int errno = Errno.Last;
        if (errno == Errno.ENOENT)
        {
            _stats.VanishedSkipped++;
            return -2;
        }
        if (errno is Errno.ELOOP or Errno.ENOTDIR)
            return -1; // replaced by a symlink or another type since listing: archive what is there now
        throw new SyscallException("openat", Encoding.UTF8.GetString(PathSpan), errno);
    }

    void FillCommon(in StatxBuffer st)
    {
        _entry.Reset();
        _entry.SetName(PathSpan);
        _entry.Mode = st.Mode & StatMode.PermissionMask;
        bool uidMapped = _options.Uids.TryToContainer(st.Uid, out uint uid);
        bool gidMapped = _options.Gids.TryToContainer(st.Gid, out uint gid);
        if (!uidMapped || !gidMapped)
            _stats.NoteUnmapped(PathSpan);
        _entry.Uid = uid;
        _entry.Gid = gid;
        _entry.MtimeSeconds = st.MtimeSeconds;
        _entry.MtimeNanoseconds = (int)st.MtimeNanoseconds;
    }

    void ArchiveRegular(int fd, in StatxBuffer st)
    {
        _stats.Entries++;
        if (st.Nlink > 1)
        {
            var key = (st.DevMajor, st.DevMinor, st.Ino);
            if (_hardLinks.TryGetValue(key, out var first))
            {
                _entry.Type = TarFormat.TypeHardLink;
                _entry.SetLinkName(first);
                _headers.Write(_output, _entry);
                _stats.HardLinks++;
                return;
            }
            _hardLinks[key] = PathSpan.ToArray();
        }

        _entry.Type = TarFormat.TypeRegular;
        _entry.Size = (long)st.Size;
        ReadXattrs(fd);
        if (SparseRegions.TryMap(fd, in st, _entry.SparseMap, PathSpan))
        {
            ArchiveSparse(fd);
            return;
        }
        _headers.Write(_output, _entry);
        if (_output.LargeMembers is { } large && _entry.Size >= large.LargeMemberBytes)
        {
            // The stat above is the file's identity: a change while it is read moves its ctime, so the next backup reads it again.
            var identity = new FileIdentity(st.DevMajor, st.DevMinor, st.Ino, _entry.Size,
                st.MtimeSeconds * 1_000_000_000 + st.MtimeNanoseconds, st.CtimeSeconds * 1_000_000_000 + st.CtimeNanoseconds);
            bool held = large.Holds(identity);
            _output.AnnounceLarge(identity, _entry.Size, held);
            if (held)
            {
                _output.Zeros((int)TarFormat.PaddingOf(_entry.Size));
                _stats.Files++;
                _stats.DataBytes += _entry.Size;
                return;
            }
        }
        if (_entry.Size > TarOutput.ChunkSize)
            Libc.PosixFadvise(fd, 0, 0, 2 /* POSIX_FADV_SEQUENTIAL: larger read-ahead; small files fit the default */);
        long copied = _output.CopyFrom(fd, _entry.Size, PathSpan);
        FillShortRead(_entry.Size - copied);
        _output.Zeros((int)TarFormat.PaddingOf(_entry.Size));
        _stats.Files++;
        _stats.DataBytes += _entry.Size;
    }

    /// <summary>A file with holes: the map, then only its data regions (PAX sparse 1.0), read where SEEK_DATA found them.</summary>
    void ArchiveSparse(int fd)
    {
        long data = 0;
        foreach (var (_, length) in _entry.SparseMap)
            data += length;
        _entry.SparseRealSize = _entry.Size;
        _entry.Size = TarHeaderWriter.SparseMapSize(_entry) + data;
        _headers.Write(_output, _entry);
        TarHeaderWriter.WriteSparseMap(_output, _entry);
        if (data > TarOutput.ChunkSize)
            Libc.PosixFadvise(fd, 0, 0, 2 /* POSIX_FADV_SEQUENTIAL */);
        long missing = 0;
        foreach (var (offset, length) in _entry.SparseMap)
        {
            if (missing > 0 || length == 0)
            {
                missing += length; // once the file came up short, the rest of the promise is zeros
                continue;
            }
            SparseCalls.SeekTo(fd, offset, PathSpan);
            missing += length - _output.CopyFrom(fd, length, PathSpan);
        }
        FillShortRead(missing);
        _output.Zeros((int)TarFormat.PaddingOf(_entry.Size));
        _stats.Files++;
        _stats.SparseFiles++;
        _stats.DataBytes += data;
    }

    /// <summary>The header already promised the bytes a shrinking file no longer has: keep the stream valid and say so.</summary>
    void FillShortRead(long missing)
    {
        if (missing <= 0)
            return;
        for (; missing > 0; missing -= int.MaxValue)
            _output.Zeros((int)Math.Min(missing, int.MaxValue));
        _stats.ChangedWhileRead++;
    }

    void ArchiveSymlink(int directoryFd, byte* name)
    {
        nint length;
        fixed (byte* target = _linkTarget)
            length = Libc.ReadlinkAt(directoryFd, name, target, _linkTarget.Length);
        if (length < 0)
        {
            if (Errno.Last == Errno.ENOENT)
            {
                _stats.VanishedSkipped++;
                return;
            }
            throw SyscallException.FromLastError("readlinkat", PathSpan);
        }
        if (length > TarEntry.MaxNameLength)
            throw new ArchiveException($"symlink target of {Encoding.UTF8.GetString(PathSpan)} is longer than {TarEntry.MaxNameLength} bytes");
        _entry.Type = TarFormat.TypeSymlink;
        _entry.SetLinkName(_linkTarget.AsSpan(0, (int)length));
        WriteHeaderOnly();
        _stats.Symlinks++;
    }

    void WriteHeaderOnly()
    {
        _headers.Write(_output, _entry);
        _stats.Entries++;
        if (_entry.Type is TarFormat.TypeCharDevice or TarFormat.TypeBlockDevice or TarFormat.TypeFifo)
            _stats.SpecialFiles++;
    }

    /// <summary>Collects the user.* and security.capability xattrs (docs/compatibility.md#creating-archives) of an open file or directory.</summary>
    void ReadXattrs(int fd)
    {
        if (!_options.Xattrs)
            return;
        nint length = Libc.FListXattr(fd, _xattrNames, XattrListSize);
        if (length <= 0)
            return; // none, or a file system without xattrs
        var names = new ReadOnlySpan<byte>(_xattrNames, (int)length);
        while (!names.IsEmpty)
        {
            int nul = names.IndexOf((byte)0);
            var xattrName = names[..(nul < 0 ? names.Length : nul + 1)];
            names = names[xattrName.Length..];
            var bare = xattrName[^1] == 0 ? xattrName[..^1] : xattrName;
            if (!bare.StartsWith("user."u8) && !bare.SequenceEqual("security.capability"u8))
                continue;
            if (ReadXattr(fd, xattrName) is { } value)
                _entry.Xattrs.Add(new(Encoding.UTF8.GetString(bare), value));
        }
    }

    static byte[]? ReadXattr(int fd, ReadOnlySpan<byte> nameWithNul)
    {
        fixed (byte* name = nameWithNul)
        {
            nint size = Libc.FGetXattr(fd, name, null, 0);
            if (size < 0)
                return null; // removed in between
            var value = new byte[size];
            fixed (byte* v = value)
            {
                nint got = Libc.FGetXattr(fd, name, v, size);
                return got < 0 ? null : got == size ? value : value[..(int)got];
            }
        }
    }

    public void Dispose()
    {
        foreach (var listing in _listings)
            listing.Dispose();
        _output.Dispose();
        NativeMemory.Free(_dents);
        NativeMemory.Free(_xattrNames);
    }
}
