using System.Text;
using Wsd.Errors;
using Wsd.Linux.Sandbox;

namespace Wsd.Content.Git;

/// <summary>
/// The git status reported by DisposeWorkspace (docs/compatibility.md#git-status-on-dispose). Everything
/// in the checkout is the workspace user's, its .git/config included, so git runs in the sandbox,
/// read-only and offline, and the three commands together get <paramref name="timeout"/>
/// (content.git.statusTimeout). Their output is read line by line as bytes and only the first lines of
/// each list become strings, so a checkout of a million untracked files costs counters, not memory.
/// </summary>
public sealed class GitStatusReader(GitRunner git, TimeSpan timeout)
{
    const int ListLimit = 100;

    /// <summary>Null when the checkout is not a git working copy (a symlinked checkout or .git is none).</summary>
    public async Task<GitStatus?> ReadAsync(string contentDirectory, string checkoutLocation, CancellationToken cancellationToken)
    {
        string relative = Path.GetRelativePath(contentDirectory, ContentPaths.Inside(contentDirectory, checkoutLocation, "checkout location"));
        relative = relative == "." ? "" : relative;
        if (!SandboxPaths.IsDirectoryBeneath(contentDirectory, Path.Combine(relative, ".git")))
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

    async Task Checked(GitWorkTree tree, string[] args, OutputLine onLine, CancellationToken cancellationToken)
    {
        var result = await git.RunAsync(tree, args, null, cancellationToken, onLine);
        if (!result.Succeeded)
            throw new GitException(args, result);
    }

    async Task Tolerant(GitWorkTree tree, string[] args, OutputLine onLine, CancellationToken cancellationToken)
    {
        var result = await git.RunAsync(tree, args, null, cancellationToken, onLine);
        if (!result.Succeeded && !result.Error.Contains("does not have any commits yet", StringComparison.Ordinal))
            throw new GitException(args, result);
    }

    /// <summary>Counts non-empty lines and keeps the first <see cref="ListLimit"/>: only those become strings.</summary>
    sealed class Lines
    {
        public readonly List<string> Kept = [];
        public long Total;

        public void Add(ReadOnlySpan<byte> line)
        {
            line = line.Trim((byte)' ');
            if (line.IsEmpty)
                return;
            Total++;
            if (Kept.Count < ListLimit)
                Kept.Add(Encoding.UTF8.GetString(line));
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

        public void Add(ReadOnlySpan<byte> line)
        {
            if (line.StartsWith("# branch.head "u8))
                Branch = Encoding.UTF8.GetString(line["# branch.head "u8.Length..]).Trim();
            else if (line.StartsWith("1 "u8) || line.StartsWith("2 "u8) || line.StartsWith("u "u8))
                Uncommitted.Add(LastToken(line));
            else if (line.StartsWith("? "u8))
                Untracked.Add(LastToken(line));
        }

        // Upstream keeps the last space-separated token (docs/compatibility.md#git-status-on-dispose).
        static ReadOnlySpan<byte> LastToken(ReadOnlySpan<byte> line) => line[(line.LastIndexOf((byte)' ') + 1)..];
    }
}
