using System.Diagnostics;
using System.Globalization;
using Grpc.Net.Client;
using Wsd.Api.ContentService;
using Wsd.Api.WsDaemon;

namespace Wsd.ProcessBench;

/// <summary>
/// The daemon doing its job on a 1 GiB workspace: backup throughput, init-from-backup throughput,
/// and peak RSS while five backups run at once; GNU tar creating and extracting the same tree in
/// the same run as the peer. Everything on a tmpfs the benchmark mounts.
/// </summary>
static class ContentBench
{
    public static async Task RunAsync(string root, long sizeMiB, int smallFiles, Report report)
    {
        string wsd = Path.Combine(root, "out", "wsd");
        string work = Directory.CreateTempSubdirectory("wsd-content-bench-").FullName;
        File.SetUnixFileMode(work, (UnixFileMode)0x1ED);
        bool tmpfs = Sh($"mount -t tmpfs -o size={sizeMiB * 16 + 2048}m wsd-bench {work}", check: false) == 0;
        Process? daemon = null;
        try
        {
            int servicePort = Daemon.FreePort(), healthPort = Daemon.FreePort();
            string config = Path.Combine(work, "wsd.json");
            await File.WriteAllTextAsync(config, $$"""
                { "service": { "address": "127.0.0.1:{{servicePort}}" }, "health": { "address": "127.0.0.1:{{healthPort}}" },
                  "content": { "workingArea": "{{work}}/area", "storage": { "local": { "root": "{{work}}/storage" } } } }
                """);
            daemon = Daemon.Aot(root).Start(work, config);
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{servicePort}");
            var client = new WorkspaceContentService.WorkspaceContentServiceClient(channel);
            await BenchClient.WaitReady(client);

            // Workspace 0 gets a generated tree, owned by the workspace user as real content is.
            await client.InitWorkspaceAsync(BenchClient.Empty("bench-0"));
            string content0 = Path.Combine(work, "area", "bench-0");
            var (files, bytes) = TreeGenerator.Create(Path.Combine(content0, "tree"), sizeMiB << 20, smallFiles);
            Sh($"chown -R 133332:133332 {content0}");
            Console.WriteLine($"workspace: {files:N0} files, {bytes / 1e6:N0} MB on {(tmpfs ? "tmpfs" : "the working disk (tmpfs mount failed)")}");
            long rssStart = BenchClient.Memory(daemon.Id, "VmRSS");

            // Each timed step starts from the same memory state (ArchiveBench.Prefault says why).
            string snapshotUrl = "";
            ArchiveBench.Prefault(work, bytes);
            double snapshot = await BenchClient.Time(async () => snapshotUrl = (await client.TakeSnapshotAsync(new TakeSnapshotRequest { Id = "bench-0" })).Url);
            var fromSnapshot = BenchClient.Empty("bench-0b");
            fromSnapshot.Initializer = new Api.ContentService.WorkspaceInitializer { Snapshot = new Api.ContentService.SnapshotInitializer { Snapshot = snapshotUrl } };
            ArchiveBench.Prefault(work, bytes);
            double restore = await BenchClient.Time(() => client.InitWorkspaceAsync(fromSnapshot).ResponseAsync);
            ArchiveBench.Prefault(work, bytes);
            double gnuCreate = Timed($"tar -cf {work}/gnu.tar -C {content0} .");
            ArchiveBench.Prefault(work, bytes);
            double gnuExtract = Timed($"mkdir {work}/gnu-x && tar -xf {work}/gnu.tar -C {work}/gnu-x");
            Sh($"rm -rf {work}/gnu.tar {work}/gnu-x");
            long peakSingle = BenchClient.Memory(daemon.Id, "VmHWM");

            // Five workspaces with the same content (hardlinked: memory for the tree is paid once), backed up at once.
            for (int i = 1; i <= 5; i++)
            {
                await client.InitWorkspaceAsync(BenchClient.Empty($"bench-c{i}"));
                Sh($"rm -rf {work}/area/bench-c{i} && cp -al {content0} {work}/area/bench-c{i}");
            }
            long peakBefore = BenchClient.Memory(daemon.Id, "VmHWM");
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(1, 5).Select(i => client.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = $"bench-c{i}" }).ResponseAsync));
            double concurrent = clock.Elapsed.TotalSeconds;
            long peakConcurrent = BenchClient.Memory(daemon.Id, "VmHWM");
            // The peer: five GNU tar processes archiving the same trees at once (into a pipe, so
            // tar reads every byte), their peak RSS summed.
            Sh(string.Join(" & ", Enumerable.Range(1, 5).Select(i => $"/usr/bin/time -f %M -o {work}/tar-rss.{i} tar -cf - -C {work}/area/bench-c{i} . | cat > /dev/null")) + " & wait");
            long tarsKb = Enumerable.Range(1, 5).Sum(i => long.Parse(File.ReadAllText($"{work}/tar-rss.{i}").Trim()));

            Console.WriteLine();
            Console.WriteLine("| operation | wsd daemon | GNU tar, same tree, same run | wsd/GNU |");
            Console.WriteLine("|---|---|---|---|");
            Row("snapshot of the workspace (wsd: archive + SHA-256 + local store commit; GNU: tar -cf)", snapshot, gnuCreate, bytes);
            Row("init from that snapshot (wsd: fetch + verify + extract + ready; GNU: tar -xf)", restore, gnuExtract, bytes);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| five concurrent backups of {bytes / 1e6:N0} MB each | {concurrent:F2} s, {5 * bytes / 1e6 / concurrent:F0} MB/s total | | |"));
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"daemon RSS: {rssStart / 1048576.0:F1} MiB before, peak {peakSingle / 1048576.0:F1} MiB through one snapshot and restore, peak {peakConcurrent / 1048576.0:F1} MiB with five concurrent backups (peak before them {peakBefore / 1048576.0:F1} MiB); five GNU tar at once: {tarsKb / 1024.0:F1} MiB together"));
            string size = string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:N0} MB");
            report.Add("daemon, local storage", $"snapshot of a {size} workspace", S($"{snapshot:F2} s"), "GNU tar -cf", S($"{gnuCreate:F2} s"), snapshot / gnuCreate);
            report.Add("daemon, local storage", "init from that snapshot", S($"{restore:F2} s"), "GNU tar -xf", S($"{gnuExtract:F2} s"), restore / gnuExtract);
            report.Add("daemon, local storage", "peak RSS, 5 concurrent backups", S($"{peakConcurrent / 1048576.0:F1} MiB"), "5 × GNU tar -cf at once (sum)",
                S($"{tarsKb / 1024.0:F1} MiB"), peakConcurrent / 1024.0 / tarsKb);
        }
        finally
        {
            if (daemon is { HasExited: false })
            {
                daemon.Kill();
                await daemon.WaitForExitAsync();
            }
            if (tmpfs)
                Sh($"umount {work}", check: false);
            Directory.Delete(work, recursive: true);
        }
    }

    static void Row(string label, double wsd, double gnu, long bytes) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {label} | {wsd:F2} s, {bytes / 1e6 / wsd:F0} MB/s | {gnu:F2} s, {bytes / 1e6 / gnu:F0} MB/s | {wsd / gnu:F2} |"));

    static string S(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    static double Timed(string command)
    {
        var clock = Stopwatch.StartNew();
        Sh(command);
        return clock.Elapsed.TotalSeconds;
    }

    static int Sh(string command, bool check = true)
    {
        using var process = Process.Start(new ProcessStartInfo("bash", ["-c", command]) { UseShellExecute = false })!;
        process.WaitForExit();
        if (check && process.ExitCode != 0)
            throw new InvalidOperationException($"'{command}' failed with {process.ExitCode}");
        return process.ExitCode;
    }
}
