using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Wsd.Content.Git;
using Wsd.Errors;
using Wsd.Interop;
using Wsd.Linux;
using Wsd.Observability;
using Wsd.Storage;

namespace Wsd.Content;

/// <summary>
/// Produces a workspace's content (docs/compatibility.md#content-initialization): a clean directory, its
/// own backup if one exists, else the requested initializer tree. Runs in-process as root, but git runs
/// as the workspace user and everything written by the daemon itself goes through no-follow paths
/// (docs/decisions.md#content-and-git).
/// </summary>
public sealed class ContentInitializer(GitCheckout git, HttpClient http, ContentMetrics metrics, ILogger<ContentInitializer> log)
{
    public sealed record Target(string ContentDirectory, uint Uid, uint Gid, WorkspaceStorage? Storage, ArchiveRestorer? Restorer);

    public async Task<InitOutcome> InitializeAsync(Target target, InitializerSpec spec, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(target.ContentDirectory, (UnixFileMode)0x1ED);
        ContentPaths.Empty(target.ContentDirectory);
        ContentPaths.Chown(target.ContentDirectory, target.Uid, target.Gid);

        // The workspace's own backup always wins over what the request asks for
        // (docs/compatibility.md#content-initialization).
        if (target.Storage is not null && target.Restorer is not null)
        {
            var clock = Stopwatch.StartNew();
            long before = ContentPaths.UsedBytes(target.ContentDirectory);
            if (await RestoreAsync(target.Restorer, target.Storage.Backup, target.ContentDirectory, "backup", cancellationToken))
                return Finished(new InitOutcome(InitSource.FromBackup, [Metric("fromBackup", clock, before, target.ContentDirectory)]));
        }
        var measured = new List<InitMetric>();
        string source = await RunAsync(target, spec, measured, cancellationToken);
        return Finished(new InitOutcome(source, measured));
    }

    // Each initializer that ran is counted once the content is whole, with its time and the bytes it added.
    InitOutcome Finished(InitOutcome outcome)
    {
        foreach (var metric in outcome.Metrics ?? [])
            metrics.InitializerFinished(metric.Type, metric.DurationNanoseconds / 1e9, metric.Size);
        return outcome;
    }

    async Task<string> RunAsync(Target target, InitializerSpec spec, List<InitMetric> measured, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        long before = ContentPaths.UsedBytes(target.ContentDirectory);
        switch (spec)
        {
            case EmptySpec:
                return InitSource.FromOther;
            case CompositeSpec composite:
                foreach (var child in composite.Children)
                    await RunAsync(target, child, measured, cancellationToken);
                measured.Add(Metric("composite", clock, before, target.ContentDirectory));
                return InitSource.FromOther;
            case GitSpec gitSpec:
                await git.RunAsync(gitSpec, target.ContentDirectory, target.Uid, target.Gid, cancellationToken);
                measured.Add(Metric("git", clock, before, target.ContentDirectory));
                return InitSource.FromOther;
            case SnapshotSpec snapshot:
                if (!snapshot.FromVolumeSnapshot)
                {
                    await RestoreSnapshotAsync(target, snapshot, cancellationToken);
                    measured.Add(Metric("snapshot", clock, before, target.ContentDirectory));
                }
                return InitSource.FromBackup;
            case PrebuildSpec prebuild:
                await RunPrebuildAsync(target, prebuild, measured, cancellationToken);
                measured.Add(Metric("prebuild", clock, before, target.ContentDirectory));
                return InitSource.FromPrebuild;
            case DownloadSpec download:
                await DownloadAsync(target, download, cancellationToken);
                measured.Add(Metric("fileDownload", clock, before, target.ContentDirectory));
                return InitSource.FromOther;
            case FromBackupSpec backup:
                if (!backup.FromVolumeSnapshot)
                {
                    // Reached only when InitializeAsync found no backup: then there is none to restore.
                    throw new WsdException(ErrorCode.FailedPrecondition, "no backup found");
                }
                return InitSource.FromBackup;
            default:
                throw new WsdException(ErrorCode.InvalidArgument, $"unknown initializer {spec.GetType().Name}");
        }
    }

    async Task RestoreSnapshotAsync(Target target, SnapshotSpec snapshot, CancellationToken cancellationToken)
    {
        if (!ObjectLocation.TryParse(snapshot.Snapshot, out var location))
            throw new WsdException(ErrorCode.InvalidArgument, $"snapshot \"{snapshot.Snapshot}\" is not <object>@<bucket>");
        if (target.Restorer is null)
            throw new WsdException(ErrorCode.FailedPrecondition, "workspace has no remote storage");
        if (!await RestoreAsync(target.Restorer, location, target.ContentDirectory, "snapshot", cancellationToken))
        {
            metrics.Restored("snapshot", succeeded: false);
            throw new WsdException(ErrorCode.NotFound, "cannot find snapshot");
        }
    }

    // Counts restores that happened or failed; "no such object" is for the caller to judge (a
    // workspace without a backup is the usual case, a missing snapshot an error).
    async Task<bool> RestoreAsync(ArchiveRestorer restorer, ObjectLocation location, string destination, string kind, CancellationToken cancellationToken)
    {
        bool restored;
        try
        {
            restored = await restorer.TryRestoreAsync(location, destination, cancellationToken);
        }
        catch
        {
            metrics.Restored(kind, succeeded: false);
            throw;
        }
        if (restored)
            metrics.Restored(kind, succeeded: true);
        return restored;
    }

    // Snapshot first; if it cannot be restored, fall back to cloning, after emptying the content
    // completely (upstream's glob left dotfiles such as a half-restored .git,
    // docs/compatibility.md#prebuild-fallback-leaving-dotfiles).
    async Task RunPrebuildAsync(Target target, PrebuildSpec prebuild, List<InitMetric> measured, CancellationToken cancellationToken)
    {
        bool restored = false;
        if (prebuild.Snapshot is { } snapshot && !snapshot.FromVolumeSnapshot)
        {
            try
            {
                await RestoreSnapshotAsync(target, snapshot, cancellationToken);
                restored = true;
            }
            catch (Exception e) when (e is WsdException or IOException)
            {
                log.LogWarning("prebuild snapshot {snapshot} could not be restored, cloning instead: {error}", snapshot.Snapshot, e.Message);
                ContentPaths.Empty(target.ContentDirectory);
            }
        }
        foreach (var gitSpec in prebuild.Git)
        {
            var clock = Stopwatch.StartNew();
            long before = ContentPaths.UsedBytes(target.ContentDirectory);
            string location = ContentPaths.Inside(target.ContentDirectory, gitSpec.CheckoutLocation, "checkout_location");
            if (restored && Directory.Exists(Path.Combine(location, ".git")))
                continue; // the prebuild's working copy stays as the prebuild left it
            await git.RunAsync(gitSpec, target.ContentDirectory, target.Uid, target.Gid, cancellationToken);
            measured.Add(Metric("git", clock, before, target.ContentDirectory));
        }
    }

    // Each file is fetched whole and checked against its digest; a retry starts the file again
    // (upstream appended to the partial file, docs/compatibility.md#downloads-resumed-into-partial-files).
    async Task DownloadAsync(Target target, DownloadSpec download, CancellationToken cancellationToken)
    {
        string root = ContentPaths.Inside(target.ContentDirectory, download.TargetLocation, "target_location");
        ContentPaths.CreateDirectories(target.ContentDirectory, root, target.Uid, target.Gid);
        foreach (var file in download.Files)
        {
            string path = ContentPaths.Inside(root, file.FilePath, "file_path");
            // The file is written by root into the user's tree: its directory is held by descriptor
            // and the file made in it, so no symlink the user puts on the way is followed.
            int directory = ContentPaths.OpenDirectories(target.ContentDirectory, Path.GetDirectoryName(path)!, target.Uid, target.Gid);
            try
            {
                Exception? last = null;
                for (int attempt = 0; attempt < 20; attempt++)
                {
                    if (attempt > 0)
                        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                    try
                    {
                        await DownloadOnceAsync(file, directory, Path.GetFileName(path), target, cancellationToken);
                        last = null;
                        break;
                    }
                    catch (HttpRequestException e)
                    {
                        last = e;
                    }
                }
                if (last is not null)
                    throw new WsdException(ErrorCode.FailedPrecondition, $"cannot download {file.FilePath}: {last.Message}");
            }
            finally
            {
                Libc.Close(directory);
            }
        }
    }

    async Task DownloadOnceAsync(DownloadFile file, int directory, string name, Target target, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(file.Url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"non-OK download response: {(int)response.StatusCode} {response.ReasonPhrase}");
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // A symlink or FIFO in place of the file is replaced, never written through.
        int fd = BeneathRoot.CreateRegularFile(directory, name, 0x1A4);
        await using (var output = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Write, bufferSize: 0))
        {
            if (Libc.GetEuid() == 0 && Libc.FChown(fd, target.Uid, target.Gid) != 0)
                throw SyscallException.FromLastError("fchown", file.FilePath);
            var buffer = new byte[81920];
            int n;
            while ((n = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
            }
        }
        string digest = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (!string.Equals(digest, file.Sha256Hex, StringComparison.OrdinalIgnoreCase))
        {
            ContentPaths.RemoveEntry(directory, name);
            throw new WsdException(ErrorCode.FailedPrecondition, $"digest mismatch for {file.FilePath}: got sha256:{digest}");
        }
    }

    static InitMetric Metric(string type, Stopwatch clock, long usedBefore, string directory) =>
        new(type, clock.Elapsed.Ticks * 100, unchecked((ulong)(ContentPaths.UsedBytes(directory) - usedBefore)));
}
