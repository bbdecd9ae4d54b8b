using Wsd.Errors;
using Wsd.Interop;
using Wsd.Linux;

namespace Wsd.Content;

/// <summary>
/// Paths inside a workspace's content directory, for names that come with the request (checkout
/// and target locations, download file paths): relative, no "..", so they cannot leave the content.
/// </summary>
public static unsafe class ContentPaths
{
    /// <summary>Joins <paramref name="relative"/> under <paramref name="root"/>; INVALID_ARGUMENT when it would leave it.</summary>
    public static string Inside(string root, string relative, string what)
    {
        var parts = relative.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
        if (parts.Any(p => p == ".." || p.Contains('\0')))
            throw new WsdException(ErrorCode.InvalidArgument, $"{what} \"{relative}\" must stay inside the workspace (no '..')");
        return parts.Length == 0 ? root : Path.Combine([root, .. parts]);
    }

    /// <summary>
    /// Creates the directories from <paramref name="root"/> down to <paramref name="path"/> without
    /// following symlinks, and hands the new ones to the workspace user.
    /// </summary>
    public static void CreateDirectories(string root, string path, uint uid, uint gid) =>
        Libc.Close(OpenDirectories(root, path, uid, gid));

    /// <summary>As <see cref="CreateDirectories"/>, and returns a descriptor of <paramref name="path"/> for the caller to close.</summary>
    public static int OpenDirectories(string root, string path, uint uid, uint gid)
    {
        string relative = Path.GetRelativePath(root, path);
        int rootFd = Directories.Open(root);
        try
        {
            return BeneathRoot.CreateDirectories(rootFd, relative, 0x1FD, uid, gid);
        }
        catch (SyscallException e) when (e.Errno is Errno.ELOOP or Errno.ENOTDIR or Errno.EXDEV)
        {
            throw new WsdException(ErrorCode.FailedPrecondition, $"{path}: a part of it is a symlink or not a directory", e);
        }
        finally
        {
            Libc.Close(rootFd);
        }
    }

    /// <summary>
    /// Deletes everything inside <paramref name="directory"/> but not the directory itself (its quota
    /// stays attached), through descriptors: the user may be swapping directories for symlinks meanwhile.
    /// </summary>
    public static void Empty(string directory)
    {
        int fd = Directories.Open(directory, followSymlink: false);
        try
        {
            TreeRemoval.RemoveContents(fd, directory);
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>Unlinks the entry <paramref name="name"/> (not a directory) of the directory <paramref name="directoryFd"/>, if it is there.</summary>
    public static void RemoveEntry(int directoryFd, string name)
    {
        fixed (byte* n = CStrings.Of(name))
        {
            if (Libc.UnlinkAt(directoryFd, n, 0) != 0 && Errno.Last != Errno.ENOENT)
                throw SyscallException.FromLastError("unlinkat", name);
        }
    }

    /// <summary>Hands <paramref name="path"/> itself (not its content) to the workspace user.</summary>
    public static void Chown(string path, uint uid, uint gid)
    {
        if (Libc.GetEuid() == 0)
            Ownership.Lchown(path, uid, gid);
    }

    /// <summary>Bytes in use on the file system holding <paramref name="path"/>, for the ready marker's size metric.</summary>
    public static long UsedBytes(string path)
    {
        try
        {
            var drive = new DriveInfo(path);
            return drive.TotalSize - drive.TotalFreeSpace;
        }
        catch (Exception e) when (e is IOException or ArgumentException)
        {
            return 0;
        }
    }
}
