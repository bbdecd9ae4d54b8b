using System.Runtime.InteropServices;

namespace Wsd.Interop;

/// <summary>Mount system calls; the new mount API (open_tree, move_mount, ...) has no glibc 2.36 wrappers.</summary>
public static unsafe partial class MountCalls
{
    public const int Detach = 2; // MNT_DETACH

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true)]
    private static partial int Umount2(byte* target, int flags);

    /// <summary>umount2(2); the errno on failure, 0 on success.</summary>
    public static int TryUnmount(string target, int flags)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(target + "\0");
        fixed (byte* p = bytes)
            return Umount2(p, flags) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }
}
