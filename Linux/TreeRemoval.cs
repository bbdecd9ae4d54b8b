using System.Runtime.InteropServices;
using Wsd.Interop;

namespace Wsd.Linux;

/// <summary>
/// Recursive deletion of a tree the user may be changing while it runs. Everything is done through
/// directory descriptors: each entry is unlinked by name in the directory already open, and a
/// subdirectory is entered with openat(O_NOFOLLOW|O_DIRECTORY) from there (BeneathRoot's step), so a directory swapped
/// for a symlink is removed as the symlink it now is and never followed. No path is resolved twice.
/// <para>
/// Memory and descriptors stay bounded whatever the tree: entries are streamed from getdents into
/// one small buffer per level, and at most <see cref="MaxDepth"/> levels are open at once. A
/// subdirectory deeper than that is moved (renameat2, never replacing) up to the top of the tree
/// and deleted from there, so depth costs neither descriptors nor a stack of names.
/// </para>
/// A subdirectory on another mount is not entered: the delete fails with EXDEV rather than empty
/// a file system that is only mounted here.
/// </summary>
public static unsafe class TreeRemoval
{
    public const int MaxDepth = 16;

    const int BufferSize = 8 * 1024;

    /// <summary>Passes over one directory before the delete gives up on a user who keeps refilling it.</summary>
    const int MaxPasses = 8;

    /// <summary>Removes <paramref name="path"/> and everything in it; nothing to do when it does not exist.</summary>
    public static void Remove(string path)
    {
        string full = Path.GetFullPath(path).TrimEnd('/');
        string parent = Path.GetDirectoryName(full) ?? throw new ArgumentException("cannot remove /", nameof(path));
        string name = Path.GetFileName(full);
        int parentFd = Directories.Open(parent);
        try
        {
            fixed (byte* n = CStrings.Of(name))
            {
                if (TryUnlink(parentFd, n, path))
                    return;
                int fd = BeneathRoot.TryOpenEntry(parentFd, n, OpenFlags.ReadOnly | OpenFlags.Directory, out int errno);
                if (fd < 0)
                {
                    if (errno == Errno.ENOENT)
                        return;
                    throw new SyscallException("openat", path, errno);
                }
                try
                {
                    RemoveContents(fd, path);
                }
                finally
                {
                    Libc.Close(fd);
                }
                if (Libc.UnlinkAt(parentFd, n, AtFlags.RemoveDir) != 0 && Errno.Last != Errno.ENOENT)
                    throw SyscallException.FromLastError("unlinkat", path);
            }
        }
        finally
        {
            Libc.Close(parentFd);
        }
    }

    /// <summary>Removes everything inside the directory <paramref name="directoryFd"/>, leaving it in place.</summary>
    public static void RemoveContents(int directoryFd, string pathForErrors)
    {
        var stat = new StatxBuffer();
        byte empty = 0;
        if (Libc.Statx(directoryFd, &empty, AtFlags.EmptyPath, StatxMask.BasicStats | StatxMask.MountId, &stat) != 0)
            throw SyscallException.FromLastError("statx", pathForErrors);
        var top = new Top(directoryFd, stat.MountId, pathForErrors);
        // Subtrees moved up from below MaxDepth land here; passes go on until one finds nothing.
        for (int idle = 0; ; )
        {
            Rewind(directoryFd, pathForErrors);
            long hoistedBefore = top.Hoisted;
            if (EmptyLevel(top, directoryFd, depth: 0) == 0)
                return;
            if (top.Hoisted == hoistedBefore && ++idle >= MaxPasses)
                throw new SyscallException("unlinkat", pathForErrors, Errno.ENOTEMPTY);
        }
    }

    // The directory being emptied, and how many subtrees have been moved up to it so far.
    sealed record Top(int Fd, ulong MountId, string Path)
    {
        public long Hoisted;
    }

    // One pass over a directory: entries removed, subdirectories emptied and removed. Returns how
    // many entries it met.
    static int EmptyLevel(Top top, int fd, int depth)
    {
        int seen = 0;
        using var reader = new DirectoryReader(fd, top.Path, BufferSize);
        Span<byte> name = stackalloc byte[256];
        while (reader.Next(out var entry, out _))
        {
            seen++;
            entry.CopyTo(name);
            name[entry.Length] = 0;
            fixed (byte* n = name)
            {
                if (TryUnlink(fd, n, top.Path))
                    continue;
                if (depth + 1 >= MaxDepth)
                {
                    Hoist(top, fd, n);
                    continue;
                }
                RemoveSubdirectory(top, fd, n, depth + 1);
            }
        }
        return seen;
    }

    // Unlinks a non-directory (or an empty directory); false when it is a directory with content.
    static bool TryUnlink(int fd, byte* name, string pathForErrors)
    {
        if (Libc.UnlinkAt(fd, name, 0) == 0)
            return true;
        int errno = Errno.Last;
        if (errno == Errno.ENOENT)
            return true; // gone already: the user removed it first
        if (errno != Errno.EISDIR)
            throw new SyscallException("unlinkat", Describe(pathForErrors, name), errno);
        if (Libc.UnlinkAt(fd, name, AtFlags.RemoveDir) == 0)
            return true;
        errno = Errno.Last;
        if (errno is Errno.ENOENT)
            return true;
        if (errno is Errno.ENOTEMPTY or Errno.EEXIST)
            return false;
        // ENOTDIR: swapped for a file or symlink between the two calls; unlinked as what it is now.
        if (errno == Errno.ENOTDIR)
            return Libc.UnlinkAt(fd, name, 0) == 0 || Errno.Last == Errno.ENOENT;
        throw new SyscallException("unlinkat", Describe(pathForErrors, name), errno);
    }

    static void RemoveSubdirectory(Top top, int parentFd, byte* name, int depth)
    {
        int fd = BeneathRoot.TryOpenEntry(parentFd, name, OpenFlags.ReadOnly | OpenFlags.Directory | OpenFlags.NonBlock, out int errno);
        if (fd < 0)
        {
            // A symlink or file now (ELOOP, ENOTDIR) is removed as one; a vanished one is done.
            if (errno is Errno.ELOOP or Errno.ENOTDIR or Errno.ENOENT)
            {
                TryUnlink(parentFd, name, top.Path);
                return;
            }
            throw new SyscallException("openat", Describe(top.Path, name), errno);
        }
        try
        {
            var stat = new StatxBuffer();
            byte empty = 0;
            if (Libc.Statx(fd, &empty, AtFlags.EmptyPath, StatxMask.BasicStats | StatxMask.MountId, &stat) != 0)
                throw SyscallException.FromLastError("statx", Describe(top.Path, name));
            if (stat.MountId != top.MountId)
                throw new SyscallException("unlinkat", Describe(top.Path, name) + " (a mount point)", Errno.EXDEV);
            for (int pass = 0; ; pass++)
            {
                EmptyLevel(top, fd, depth);
                if (Libc.UnlinkAt(parentFd, name, AtFlags.RemoveDir) == 0)
                    return;
                errno = Errno.Last;
                if (errno is Errno.ENOENT or Errno.ENOTDIR)
                    return; // moved away or replaced: the parent's next pass sees what is there now
                if (errno is not (Errno.ENOTEMPTY or Errno.EEXIST) || pass + 1 >= MaxPasses)
                    throw new SyscallException("unlinkat", Describe(top.Path, name), errno);
                Rewind(fd, top.Path);
            }
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    // Moves a subdirectory found at MaxDepth to the top under a name of the daemon's, never
    // replacing an entry there; the top's next pass deletes it from depth 1.
    static void Hoist(Top top, int parentFd, byte* name)
    {
        Span<byte> target = stackalloc byte[64];
        while (true)
        {
            int length = System.Text.Encoding.ASCII.GetBytes($".wsd-deep-{Environment.ProcessId}-{top.Hoisted++}", target);
            target[length] = 0;
            fixed (byte* t = target)
            {
                if (Renames.RenameAt2(parentFd, name, top.Fd, t, Renames.NoReplace) == 0)
                    return;
            }
            int errno = Errno.Last;
            if (errno == Errno.ENOENT)
                return;
            if (errno != Errno.EEXIST)
                throw new SyscallException("renameat2", Describe(top.Path, name), errno);
        }
    }

    static void Rewind(int fd, string pathForErrors)
    {
        if (FileOffsets.LSeek(fd, 0, FileOffsets.SeekSet) < 0)
            throw SyscallException.FromLastError("lseek", pathForErrors);
    }

    static string Describe(string top, byte* name) =>
        top + "/…/" + SyscallException.Display(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(name));
}
