namespace Wsd.Linux;

/// <summary>Writing a user namespace's uid_map or gid_map (user_namespaces(7)).</summary>
public static class IdMaps
{
    /// <summary>
    /// Writes all entries to the process's uid_map (or gid_map) in one write(2), as the kernel
    /// requires: a map can be written once, whole. setgroups is left as it is
    /// (docs/compatibility.md#writeidmapping).
    /// </summary>
    public static unsafe void Write(ProcessHandle process, bool gid, IReadOnlyList<IdRange> entries)
    {
        var text = new System.Text.StringBuilder();
        foreach (var e in entries)
            text.Append(e.Container).Append(' ').Append(e.Host).Append(' ').Append(e.Size).Append('\n');
        byte[] bytes = System.Text.Encoding.ASCII.GetBytes(text.ToString());
        string map = gid ? "gid_map" : "uid_map";
        int fd = process.OpenEntry(map, Interop.OpenFlags.WriteOnly);
        try
        {
            fixed (byte* b = bytes)
            {
                if (Interop.Libc.Write(fd, b, bytes.Length) != bytes.Length)
                    throw Interop.SyscallException.FromLastError("write", $"/proc/{process.Pid}/{map}");
            }
        }
        finally
        {
            Interop.Libc.Close(fd);
        }
    }
}
