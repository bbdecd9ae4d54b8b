using Wsd.Linux;

namespace Wsd.Workspaces.InWorkspace;

/// <summary>
/// The workspace's shifted root, mounted at &lt;service dir&gt;/mark by PrepareForUserNS, and its
/// removal at Teardown (docs/compatibility.md#teardown): a mark that is already gone (never mounted,
/// unmounted before, or the directory removed) counts as removed.
/// </summary>
public static class MarkMount
{
    public const string Name = "mark";

    public static string PathIn(string serviceDirectory) => Path.Combine(serviceDirectory, Name);

    /// <summary>A bound on the mounts stacked at the mark that one unmount removes.</summary>
    const int MaxStacked = 64;

    /// <summary>
    /// Unmounts the mark (lazily with <paramref name="detach"/>), every mount stacked there: a
    /// PrepareForUserNS after a daemon restart may have put a second one on the first. Null on
    /// success, else why not.
    /// </summary>
    public static string? Unmount(string serviceDirectory, bool detach = false) =>
        MountPoints.UnmountAll(PathIn(serviceDirectory), detach, MaxStacked);
}
