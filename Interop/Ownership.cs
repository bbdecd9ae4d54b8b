namespace Wsd.Interop;

/// <summary>Changing a path's owner without following a symlink there (lchown).</summary>
public static unsafe class Ownership
{
    public static void Lchown(string path, uint uid, uint gid)
    {
        fixed (byte* p = CStrings.Of(path))
        {
            if (Libc.FChownAt(AtFlags.CurrentDirectory, p, uid, gid, AtFlags.SymlinkNoFollow) != 0)
                throw SyscallException.FromLastError("lchown", path);
        }
    }
}
