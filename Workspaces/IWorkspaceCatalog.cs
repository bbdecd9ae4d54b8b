namespace Wsd.Workspaces;

/// <summary>Answers which workspaces this node holds.</summary>
public interface IWorkspaceCatalog
{
    bool Exists(string id);
}
