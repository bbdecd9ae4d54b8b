using System.Text;

namespace Wsd.Interop;

/// <summary>Changing a path's owner without following a symlink there (lchown).</summary>
public static unsafe class Ownership
{
    public static void Lchown(string path, uint uid, uint gid)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            if (Libc.FChownAt(AtFlags.CurrentDirectory, p, uid, gid, AtFlags.SymlinkNoFollow) != 0)
                throw SyscallException.FromLastError("lchown", path);
        }
    }
}
