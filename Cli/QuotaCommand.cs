using Wsd.Linux;
using Wsd.Workspaces;

namespace Wsd.Cli;

/// <summary>
/// <c>wsd quota DIR</c>: the project quotas in wsd's id range on the filesystem of DIR, one JSON
/// line each: what <c>xfs_quota -x -c "report -p"</c> would say, for images that have no xfs_quota.
/// </summary>
static class QuotaCommand
{
    public static int Run(string[] args)
    {
        if (args is not [var directory])
            throw new UsageException("quota needs one directory on the filesystem to report on");
        using var filesystem = ProjectQuotaFilesystem.Open(directory, out string whyNot);
        if (filesystem is null)
        {
            Console.Error.WriteLine($"wsd: {whyNot}");
            return 1;
        }
        foreach (uint id in filesystem.InUse(WorkspaceQuotas.FirstProjectId, WorkspaceQuotas.LastProjectId))
        {
            var (soft, hard, used) = filesystem.Read(id);
            Console.WriteLine(JsonLine.Of(json =>
            {
                json.WriteNumber("project", id);
                json.WriteNumber("softBytes", soft);
                json.WriteNumber("hardBytes", hard);
                json.WriteNumber("usedBytes", used);
            }));
        }
        return 0;
    }
}
