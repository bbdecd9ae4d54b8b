using System.Security.Cryptography;
using Wsd.Storage;

namespace Wsd.Content;

/// <summary>
/// DisposeWorkspace's backup_logs (REF §3.6.3): prebuild logs found in the content are uploaded as
/// <c>&lt;owner&gt;/workspaces/&lt;workspaceId&gt;/instances/&lt;instanceId&gt;/logs/&lt;taskId&gt;</c>.
/// Failures are logged, not fatal, as upstream.
/// </summary>
public sealed class LogUploader(ILogger<LogUploader> log)
{
    static readonly (string Directory, string Prefix)[] Places = [("", "prebuild-log-"), (".gitpod", "prebuild-log-"), ("", ".prebuild-log-")];

    public async Task UploadAsync(string contentDirectory, IObjectStore store, string owner, string workspaceId, string instanceId, CancellationToken cancellationToken)
    {
        foreach (var (directory, prefix) in Places)
        {
            string folder = Path.Combine(contentDirectory, directory);
            if (!Directory.Exists(folder) || new DirectoryInfo(folder).LinkTarget is not null)
                continue;
            var logs = Directory.EnumerateFiles(folder, prefix + "*").Where(f => new FileInfo(f).LinkTarget is null).ToList();
            if (logs.Count == 0)
                continue;
            foreach (var file in logs)
            {
                string taskId = Path.GetFileName(file)[prefix.Length..];
                if (taskId.Length == 0 || taskId.Contains('/') || taskId.StartsWith('.'))
                    continue;
                try
                {
                    var location = new ObjectLocation(store.Bucket, ObjectNames.Key(owner, workspaceId, $"instances/{instanceId}/logs/{taskId}"));
                    await using var upload = await store.BeginUploadAsync(location, cancellationToken);
                    byte[] content = await File.ReadAllBytesAsync(file, cancellationToken);
                    await upload.Content.WriteAsync(content, cancellationToken);
                    await upload.CommitAsync(Convert.ToHexStringLower(SHA256.HashData(content)), cancellationToken);
                }
                catch (Exception e) when (e is IOException or Errors.WsdException)
                {
                    log.LogWarning("cannot upload prebuild log {file}: {error}", file, e.Message);
                }
            }
            return; // the first place with logs is the one (REF §3.6.3)
        }
    }
}
