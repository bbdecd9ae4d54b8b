namespace Wsd.Linux;

/// <summary>The file system types the running kernel has registered, as its /proc/filesystems lists them.</summary>
public static class KernelFilesystems
{
    /// <summary>
    /// Whether <paramref name="type"/> is registered now. A module that would be loaded on first
    /// mount is not listed until it is loaded: what is not listed counts as absent.
    /// </summary>
    public static bool Has(string procRoot, string type)
    {
        // Each line is "[nodev]\t<type>".
        foreach (string line in File.ReadLines(Path.Combine(procRoot, "filesystems")))
        {
            if (line.AsSpan(line.LastIndexOf('\t') + 1).SequenceEqual(type))
                return true;
        }
        return false;
    }
}
