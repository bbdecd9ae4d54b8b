namespace Wsd.Linux;

/// <summary>
/// The cgroup v2 hierarchy mounted at <see cref="Root"/>: moving a cgroup's processes into a child
/// and delegating its controllers ("evacuating", docs/compatibility.md#evacuatecgroup), handing a subtree
/// to a user, reading the interface files. Paths are cgroup paths as /proc/&lt;pid&gt;/cgroup gives them.
/// </summary>
public sealed class CgroupV2(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>Whether <see cref="Root"/> is a cgroup v2 hierarchy (it has cgroup.controllers).</summary>
    public bool IsUnified => File.Exists(Path.Combine(Root, "cgroup.controllers"));

    /// <summary>The directory of a cgroup; a path that would leave the hierarchy is refused.</summary>
    public string DirectoryOf(string cgroupPath, params string[] children)
    {
        string path = Path.GetFullPath(Path.Combine([Root, cgroupPath.TrimStart('/'), .. children]));
        if (path != Root && !path.StartsWith(Root + "/", StringComparison.Ordinal))
            throw new IOException($"cgroup path {cgroupPath} leaves the hierarchy at {Root}");
        return path;
    }

    /// <summary>
    /// Moves every process of <paramref name="directory"/> into its child <paramref name="child"/> and
    /// enables all its controllers for its children: a cgroup v2 parent may delegate controllers
    /// only once it has no processes of its own. Returns what could not be moved or enabled.
    /// </summary>
    public List<string> Evacuate(string directory, string child)
    {
        var problems = new List<string>();
        string target = Path.Combine(directory, child);
        Directory.CreateDirectory(target, (UnixFileMode)0x1ED);
        foreach (var line in File.ReadAllLines(Path.Combine(directory, "cgroup.procs")))
        {
            if (line.Length == 0 || line == "0")
                continue;
            if (!TryWrite(Path.Combine(target, "cgroup.procs"), line, out string? error))
                problems.Add($"process {line}: {error}");
        }
        string controllers = File.ReadAllText(Path.Combine(directory, "cgroup.controllers"));
        foreach (var controller in controllers.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (!TryWrite(Path.Combine(directory, "cgroup.subtree_control"), "+" + controller, out string? error))
                problems.Add($"controller {controller}: {error}");
        }
        return problems;
    }

    /// <summary>Gives a cgroup directory and its files (recursively) to uid:gid, as delegation requires.</summary>
    public static void ChownTree(string directory, uint uid, uint gid)
    {
        Interop.Ownership.Lchown(directory, uid, gid);
        foreach (var entry in Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories))
            Interop.Ownership.Lchown(entry, uid, gid);
    }

    /// <summary>The value of <paramref name="key"/> in a flat-keyed file such as cpu.stat or memory.stat; null when absent.</summary>
    public static long? ReadKey(string file, string key)
    {
        foreach (var line in File.ReadLines(file))
        {
            if (line.StartsWith(key, StringComparison.Ordinal) && line.Length > key.Length && line[key.Length] == ' '
                && long.TryParse(line.AsSpan(key.Length + 1), out long value))
                return value;
        }
        return null;
    }

    static bool TryWrite(string file, string value, out string? error)
    {
        try
        {
            File.WriteAllText(file, value);
            error = null;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            return false;
        }
    }
}
