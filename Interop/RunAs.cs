using System.Text;

namespace Wsd.Interop;

/// <summary>
/// Becomes another user and replaces the process with a program: the body of <c>wsd internal-exec</c>,
/// which the daemon uses to run git as the workspace's user rather than as root (SPEC §4).
/// setresuid/setresgid in glibc apply to every thread of the process.
/// </summary>
public static unsafe class RunAs
{
    const int PrSetNoNewPrivs = 38;

    /// <summary>Drops to <paramref name="uid"/>:<paramref name="gid"/> with no supplementary groups and execs; returns only on failure.</summary>
    public static SyscallException Exec(uint uid, uint gid, string program, IReadOnlyList<string> arguments)
    {
        if (Libc.SetGroups(0, null) != 0)
            return SyscallException.FromLastError("setgroups", "[]");
        if (Libc.SetResGid(gid, gid, gid) != 0)
            return SyscallException.FromLastError("setresgid", gid.ToString());
        if (Libc.SetResUid(uid, uid, uid) != 0)
            return SyscallException.FromLastError("setresuid", uid.ToString());
        // Nothing the program runs can gain privileges back through setuid binaries or file capabilities.
        if (Libc.Prctl(PrSetNoNewPrivs, 1, 0, 0, 0) != 0)
            return SyscallException.FromLastError("prctl", "PR_SET_NO_NEW_PRIVS");

        var strings = new byte[arguments.Count + 1][];
        strings[0] = Encoding.UTF8.GetBytes(program + "\0");
        for (int i = 0; i < arguments.Count; i++)
            strings[i + 1] = Encoding.UTF8.GetBytes(arguments[i] + "\0");
        var handles = new System.Runtime.InteropServices.GCHandle[strings.Length];
        var argv = stackalloc byte*[strings.Length + 1];
        for (int i = 0; i < strings.Length; i++)
        {
            handles[i] = System.Runtime.InteropServices.GCHandle.Alloc(strings[i], System.Runtime.InteropServices.GCHandleType.Pinned);
            argv[i] = (byte*)handles[i].AddrOfPinnedObject();
        }
        argv[strings.Length] = null;
        Libc.ExecVp(argv[0], argv);
        return SyscallException.FromLastError("execvp", program);
    }
}
