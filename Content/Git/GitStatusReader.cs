using Wsd.Workspaces;

namespace Wsd.Content.Git;

/// <summary>
/// The git status reported by DisposeWorkspace (REF §3.9), collected as the workspace user: a
/// hostile .git/config can at worst run as that user, never as root (SPEC §4, REF §9.2 item 5).
/// </summary>
public sealed class GitStatusReader(GitRunner git)
{
    const int ListLimit = 100;

    /// <summary>Null when the checkout is not a git working copy.</summary>
    public async Task<GitStatus?> ReadAsync(string checkout, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(Path.Combine(checkout, ".git")) || new DirectoryInfo(Path.Combine(checkout, ".git")).LinkTarget is not null)
            return null;
        string porcelain = await git.RunCheckedAsync(checkout, ["status", "--porcelain=v2", "--branch", "-uall"], null, cancellationToken);
        string unpushed = await Tolerant(checkout, ["log", "--pretty=%h: %s", "--branches", "--not", "--remotes"], cancellationToken);
        string latest = await Tolerant(checkout, ["log", "--pretty=%H", "-n", "1"], cancellationToken);
        return Parse(porcelain, unpushed, latest);
    }

    async Task<string> Tolerant(string checkout, string[] args, CancellationToken cancellationToken)
    {
        var result = await git.RunAsync(checkout, args, null, cancellationToken);
        if (result.Succeeded)
            return result.Output;
        if (result.Output.Contains("does not have any commits yet", StringComparison.Ordinal))
            return "";
        throw new GitException(args, result);
    }

    public static GitStatus Parse(string porcelain, string unpushed, string latestCommit)
    {
        string? branch = null;
        var uncommitted = new List<string>();
        var untracked = new List<string>();
        foreach (var line in porcelain.Split('\n'))
        {
            if (line.StartsWith("# branch.head ", StringComparison.Ordinal))
                branch = line["# branch.head ".Length..].Trim();
            else if (line.StartsWith("1 ", StringComparison.Ordinal) || line.StartsWith("2 ", StringComparison.Ordinal) || line.StartsWith("u ", StringComparison.Ordinal))
                uncommitted.Add(LastToken(line));
            else if (line.StartsWith("? ", StringComparison.Ordinal))
                untracked.Add(LastToken(line));
        }
        var commits = unpushed.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        return new GitStatus
        {
            Branch = branch,
            LatestCommit = latestCommit.Trim(),
            UncommitedFiles = Truncate(uncommitted),
            TotalUncommitedFiles = uncommitted.Count,
            UntrackedFiles = Truncate(untracked),
            TotalUntrackedFiles = untracked.Count,
            UnpushedCommits = Truncate(commits),
            TotalUnpushedCommits = commits.Count,
        };
    }

    // Upstream keeps the last space-separated token (REF §3.9).
    static string LastToken(string line) => line[(line.LastIndexOf(' ') + 1)..];

    static List<string>? Truncate(List<string> items) => items.Count switch
    {
        0 => null,
        <= ListLimit => items,
        _ => [.. items.Take(ListLimit), $"... and {items.Count - ListLimit} more"],
    };
}
