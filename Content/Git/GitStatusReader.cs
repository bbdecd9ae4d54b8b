using Wsd.Errors;
using Wsd.Workspaces;

namespace Wsd.Content.Git;

/// <summary>
/// The git status reported by DisposeWorkspace (REF §3.9). Everything in the checkout is the
/// workspace user's, its .git/config included, so git runs in the sandbox, read-only and offline,
/// and the three commands together get <paramref name="timeout"/> (content.git.statusTimeout).
/// Their output is read line by line and only the first lines of each list are kept, so a checkout
/// of a million untracked files costs counters, not memory.
/// </summary>
public sealed class GitStatusReader(GitRunner git, TimeSpan timeout)
{
    const int ListLimit = 100;

    /// <summary>Null when the checkout is not a git working copy (a symlinked checkout or .git is none).</summary>
    public async Task<GitStatus?> ReadAsync(string contentDirectory, string checkoutLocation, CancellationToken cancellationToken)
    {
        string relative = Path.GetRelativePath(contentDirectory, ContentPaths.Inside(contentDirectory, checkoutLocation, "checkout location"));
        relative = relative == "." ? "" : relative;
        if (!Linux.Sandbox.SandboxPaths.IsDirectoryBeneath(contentDirectory, Path.Combine(relative, ".git")))
            return null;
        var tree = new GitWorkTree(contentDirectory, relative, Writable: false, Network: false);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var status = new StatusLines();
            await Checked(tree, ["status", "--porcelain=v2", "--branch", "-uall"], status.Add, deadline.Token);
            var unpushed = new Lines();
            await Tolerant(tree, ["log", "--pretty=%h: %s", "--branches", "--not", "--remotes"], unpushed.Add, deadline.Token);
            var latest = new Lines();
            await Tolerant(tree, ["log", "--pretty=%H", "-n", "1"], latest.Add, deadline.Token);
            return new GitStatus
            {
                Branch = status.Branch,
                LatestCommit = latest.Kept.FirstOrDefault() ?? "",
                UncommitedFiles = status.Uncommitted.List,
                TotalUncommitedFiles = status.Uncommitted.Total,
                UntrackedFiles = status.Untracked.List,
                TotalUntrackedFiles = status.Untracked.Total,
                UnpushedCommits = unpushed.List,
                TotalUnpushedCommits = unpushed.Total,
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new WsdException(ErrorCode.DeadlineExceeded, $"git status did not finish within {timeout.TotalSeconds:0} s; its processes were killed");
        }
    }

    async Task Checked(GitWorkTree tree, string[] args, Action<string> onLine, CancellationToken cancellationToken)
    {
        var result = await git.RunAsync(tree, args, null, cancellationToken, onLine);
        if (!result.Succeeded)
            throw new GitException(args, result);
    }

    async Task Tolerant(GitWorkTree tree, string[] args, Action<string> onLine, CancellationToken cancellationToken)
    {
        var result = await git.RunAsync(tree, args, null, cancellationToken, onLine);
        if (!result.Succeeded && !result.Error.Contains("does not have any commits yet", StringComparison.Ordinal))
            throw new GitException(args, result);
    }

    /// <summary>Counts non-empty lines and keeps the first <see cref="ListLimit"/>.</summary>
    sealed class Lines
    {
        public readonly List<string> Kept = [];
        public long Total;

        public void Add(string line)
        {
            line = line.Trim();
            if (line.Length == 0)
                return;
            Total++;
            if (Kept.Count < ListLimit)
                Kept.Add(line);
        }

        /// <summary>Upstream's form: null when empty, else the first entries and "... and N more".</summary>
        public List<string>? List => Total switch
        {
            0 => null,
            <= ListLimit => Kept,
            _ => [.. Kept, $"... and {Total - ListLimit} more"],
        };
    }

    /// <summary>git status --porcelain=v2 --branch, parsed as it streams.</summary>
    sealed class StatusLines
    {
        public string? Branch;
        public readonly Lines Uncommitted = new(), Untracked = new();

        public void Add(string line)
        {
            if (line.StartsWith("# branch.head ", StringComparison.Ordinal))
                Branch = line["# branch.head ".Length..].Trim();
            else if (line.StartsWith("1 ", StringComparison.Ordinal) || line.StartsWith("2 ", StringComparison.Ordinal) || line.StartsWith("u ", StringComparison.Ordinal))
                Uncommitted.Add(LastToken(line));
            else if (line.StartsWith("? ", StringComparison.Ordinal))
                Untracked.Add(LastToken(line));
        }

        // Upstream keeps the last space-separated token (REF §3.9).
        static string LastToken(string line) => line[(line.LastIndexOf(' ') + 1)..];
    }
}
