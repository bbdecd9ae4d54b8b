namespace Wsd.Workspaces;

/// <summary>
/// A workspace exists on this node while its session file does (REF §2.2): the file outlives a
/// daemon restart, so the answer does too.
/// </summary>
public sealed class SessionFileCatalog(WorkingArea area) : IWorkspaceCatalog
{
    public bool Exists(string id)
    {
        WorkspaceId.Validate(id);
        return File.Exists(area.SessionFile(id));
    }
}
