using System.Runtime.InteropServices;
using System.Text;
using Wsd.Errors;
using Wsd.Interop;

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
    public static void CreateDirectories(string root, string path, uint uid, uint gid)
    {
        string relative = Path.GetRelativePath(root, path);
        if (relative == ".")
            return;
        int current = Directories.Open(root);
        try
        {
            foreach (var part in relative.Split('/'))
            {
                var name = Encoding.UTF8.GetBytes(part + "\0");
                fixed (byte* n = name)
                {
                    bool created = Libc.MkdirAt(current, n, 0x1FD) == 0;
                    if (!created && Marshal.GetLastPInvokeError() != Errno.EEXIST)
                        throw SyscallException.FromLastError("mkdirat", path);
                    int next = Libc.OpenAt(current, n, OpenFlags.ReadOnly | OpenFlags.Directory | OpenFlags.NoFollow | OpenFlags.CloseOnExec, 0);
                    if (next < 0)
                        throw new WsdException(ErrorCode.FailedPrecondition, $"{path}: '{part}' is a symlink or not a directory");
                    if (created && Libc.GetEuid() == 0 && Libc.FChown(next, uid, gid) != 0)
                        throw SyscallException.FromLastError("fchown", path);
                    Libc.Close(current);
                    current = next;
                }
            }
        }
        finally
        {
            Libc.Close(current);
        }
    }

    /// <summary>Deletes everything inside <paramref name="directory"/> but not the directory itself (its quota stays attached).</summary>
    public static void Empty(string directory)
    {
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo sub && sub.LinkTarget is null)
                sub.Delete(recursive: true);
            else
                entry.Delete();
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
