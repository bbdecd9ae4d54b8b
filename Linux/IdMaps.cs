namespace Wsd.Linux;

/// <summary>Writing a user namespace's uid_map or gid_map (user_namespaces(7)).</summary>
public static class IdMaps
{
    public readonly record struct Entry(uint ContainerId, uint HostId, uint Size);

    /// <summary>
    /// Writes all entries to /proc/&lt;pid&gt;/uid_map (or gid_map) in one write(2), as the kernel
    /// requires: a map can be written once, whole. setgroups is left as it is (REF §7.5).
    /// </summary>
    public static void Write(ProcFs proc, int pid, bool gid, IReadOnlyList<Entry> entries)
    {
        var text = new System.Text.StringBuilder();
        foreach (var e in entries)
            text.Append(e.ContainerId).Append(' ').Append(e.HostId).Append(' ').Append(e.Size).Append('\n');
        byte[] bytes = System.Text.Encoding.ASCII.GetBytes(text.ToString());
        using var file = new FileStream(proc.PathOf(pid, gid ? "gid_map" : "uid_map"), FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        file.Write(bytes);
    }
}
