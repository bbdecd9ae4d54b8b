namespace Wsd.Workspaces;

/// <summary>
/// Where each workspace's files live (docs/compatibility.md#working-area-layout):
/// <c>&lt;area&gt;/&lt;id&gt;/</c> content, <c>&lt;area&gt;/&lt;id&gt;-daemon/</c> service directory with
/// the workspace socket, and <c>&lt;area&gt;/&lt;id&gt;.workspace.json</c> the session file. IDs must
/// have passed <see cref="InstanceId.Validate"/>.
/// </summary>
public sealed class WorkingArea(string root)
{
    public const string ServiceDirSuffix = "-daemon";
    public const string SessionFileSuffix = ".workspace.json";
    public const string SocketName = "daemon.sock";
    /// <summary>Appended to a session file that could not be read at start, moved aside with its content kept.</summary>
    public const string CorruptSuffix = ".corrupt";
    /// <summary>The workspace's files cache for chunked backups (docs/chunked-backups.md, "Files cache"): the daemon's, outside the content.</summary>
    public const string FilesCacheSuffix = ".files-cache";

    public string Root { get; } = Path.GetFullPath(root);

    public string ContentDir(string id) => Path.Combine(Root, id);

    public string ServiceDir(string id) => Path.Combine(Root, id + ServiceDirSuffix);

    public string SocketPath(string id) => Path.Combine(ServiceDir(id), SocketName);

    public string SessionFile(string id) => Path.Combine(Root, id + SessionFileSuffix);

    public string FilesCache(string id) => Path.Combine(Root, id + FilesCacheSuffix);

    /// <summary>Creates the working area if it is missing (docs/compatibility.md#working-area-layout).</summary>
    public void Create() =>
        Directory.CreateDirectory(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
}
