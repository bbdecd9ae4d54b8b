using Wsd.Content.Git;

namespace Wsd.Services;

static class GitStatusMapping
{
    public static Api.ContentService.GitStatus? ToProto(GitStatus? status)
    {
        if (status is null)
            return null;
        var proto = new Api.ContentService.GitStatus
        {
            Branch = status.Branch ?? "",
            LatestCommit = status.LatestCommit ?? "",
            TotalUncommitedFiles = status.TotalUncommitedFiles,
            TotalUntrackedFiles = status.TotalUntrackedFiles,
            TotalUnpushedCommits = status.TotalUnpushedCommits,
        };
        proto.UncommitedFiles.AddRange(status.UncommitedFiles ?? []);
        proto.UntrackedFiles.AddRange(status.UntrackedFiles ?? []);
        proto.UnpushedCommits.AddRange(status.UnpushedCommits ?? []);
        return proto;
    }
}
