using System.Text.Json.Serialization;

namespace Wsd.Content.Git;

/// <summary>
/// The state of a checkout when its workspace is disposed (docs/compatibility.md#git-status-on-dispose),
/// kept in the session file as "lastGitStatus" with upstream's snake_case keys (misspellings included).
/// </summary>
public sealed class GitStatus
{
    [JsonPropertyName("branch")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? Branch { get; set; }

    [JsonPropertyName("latest_commit")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? LatestCommit { get; set; }

    [JsonPropertyName("uncommited_files")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public List<string>? UncommitedFiles { get; set; }

    [JsonPropertyName("total_uncommited_files")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long TotalUncommitedFiles { get; set; }

    [JsonPropertyName("untracked_files")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public List<string>? UntrackedFiles { get; set; }

    [JsonPropertyName("total_untracked_files")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long TotalUntrackedFiles { get; set; }

    [JsonPropertyName("unpushed_commits")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public List<string>? UnpushedCommits { get; set; }

    [JsonPropertyName("total_unpushed_commits")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long TotalUnpushedCommits { get; set; }
}
