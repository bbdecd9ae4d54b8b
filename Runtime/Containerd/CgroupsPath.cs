namespace Wsd.Runtime.Containerd;

/// <summary>
/// The cgroup v2 path of a container from its OCI spec's <c>linux.cgroupsPath</c>
/// (docs/compatibility.md#finding-the-workspace-container). The systemd driver writes
/// <c>slice:prefix:name</c>, which systemd places at the slice's path (each dash in a slice name is a
/// level: <c>kubepods-burstable-pod1.slice</c> lives in <c>/kubepods.slice/kubepods-burstable.slice/</c>)
/// plus <c>prefix-name.scope</c>; the cgroupfs driver writes the path itself.
/// </summary>
public static class CgroupsPath
{
    public static string Resolve(string cgroupsPath)
    {
        var parts = cgroupsPath.Split(':');
        if (parts.Length == 3 && !cgroupsPath.StartsWith('/'))
        {
            string slice = parts[0].Length == 0 ? "system.slice" : parts[0];
            string scope = parts[1].Length == 0 ? parts[2] + ".scope" : $"{parts[1]}-{parts[2]}.scope";
            return SlicePath(slice) + "/" + scope;
        }
        return cgroupsPath.StartsWith('/') ? cgroupsPath : "/" + cgroupsPath;
    }

    // "a-b-c.slice" → "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" is the root.
    static string SlicePath(string slice)
    {
        if (slice == "-.slice")
            return "";
        string name = slice.EndsWith(".slice", StringComparison.Ordinal) ? slice[..^".slice".Length] : slice;
        var levels = name.Split('-');
        var path = new System.Text.StringBuilder();
        for (int i = 1; i <= levels.Length; i++)
            path.Append('/').Append(string.Join('-', levels[..i])).Append(".slice");
        return path.ToString();
    }
}
