using System.Runtime.InteropServices;
using System.Text;

namespace Wsd.Interop;

/// <summary>A failed system call, naming the call, the path it was about and the errno.</summary>
public sealed class SyscallException(string call, string path, int errno)
    : IOException($"{call}({path}): {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})")
{
    public string Call { get; } = call;
    public string PathName { get; } = path;
    public int Errno { get; } = errno;

    /// <summary>The exception for the errno the last P/Invoke left.</summary>
    public static SyscallException FromLastError(string call, ReadOnlySpan<byte> path) =>
        new(call, Display(path), Marshal.GetLastPInvokeError());

    public static SyscallException FromLastError(string call, string path) =>
        new(call, path, Marshal.GetLastPInvokeError());

    /// <summary>A byte path for messages: up to its NUL, invalid UTF-8 replaced.</summary>
    public static string Display(ReadOnlySpan<byte> path)
    {
        int nul = path.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul < 0 ? path : path[..nul]);
    }
}
