using System.Diagnostics;
using System.Globalization;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Grpc.Net.Client;
using Wsd.Api.ContentService;
using Wsd.Api.WsDaemon;

namespace Wsd.ProcessBench;

/// <summary>
/// Backup to and restore from a Ceph RADOS Gateway on loopback (a throwaway single-node cluster
/// from tests/rgw/cluster.sh, the one the tests use) of a generated workspace, beside the same
/// gateway's throughput for one sequential PUT and GET of an archive of the same tree with the
/// same SDK, in the same run; and the daemon's peak RSS.
/// </summary>
static class StorageBench
{
    const string Bucket = "wsd-bench";
    internal const string AccessKey = "WSDBENCHACCESSKEY0001";
    internal const string SecretKey = "wsd-bench-secret-key-not-for-production";

    /// <summary>The script that starts and stops the cluster.</summary>
    public static string ClusterScript(string root) => Path.Combine(root, "tests", "rgw", "cluster.sh");

    public static async Task RunAsync(string root, int runs, long sizeMiB, int smallFiles, StorageBenchOptions options, Report report)
    {
        string work = Directory.CreateTempSubdirectory("wsd-storage-bench-").FullName;
        File.SetUnixFileMode(work, (UnixFileMode)0x1ED);
        bool tmpfs = Sh($"mount -t tmpfs -o size={sizeMiB * 8 + 2048}m wsd-bench {work}") == 0;
        string cluster = Path.Combine(work, "rgw");
        try
        {
            int s3Port = Daemon.FreePort();
            // The OSD keeps objects in RAM: the backup and the peer's object, and overwritten ones until the gateway collects them.
            long memstoreGiB = Math.Max(8, sizeMiB * (runs + 3) / 1024 + 2);
            var started = Stopwatch.StartNew();
            Cluster(root, memstoreGiB, "start", cluster, s3Port.ToString());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Ceph RGW serving on 127.0.0.1:{s3Port} after {started.Elapsed.TotalSeconds:F1} s"));
            string endpoint = $"http://127.0.0.1:{s3Port}";
            // The same cluster over TLS: there wsd leaves bodies unsigned (docs/storage-publishing.md, "Payload signing").
            int tlsPort = Daemon.FreePort();
            Cluster(root, 0, "tls-gateway", cluster, tlsPort.ToString());
            string certificate = Path.Combine(cluster, "tls", "cert.pem");
            string tlsEndpoint = $"https://127.0.0.1:{tlsPort}";
            using (var s3 = Client(endpoint, certificate))
                await s3.PutBucketAsync(new PutBucketRequest { BucketName = Bucket });

            // The workspace is generated once and handed from one daemon to the next by renames.
            string tree = Path.Combine(work, "tree");
            var (files, bytes) = TreeGenerator.Create(tree, sizeMiB << 20, smallFiles);
            Console.WriteLine($"workspace: {files:N0} files, {bytes / 1e6:N0} MB; {RgwVersion()} on loopback (memstore), workspaces on {(tmpfs ? "tmpfs" : "the working disk")}");
            // The peer: the same bytes (a tar of the same tree, as the workspace holds it) as one sequential PUT and GET with the same SDK.
            string archive = Path.Combine(work, "peer.tar");
            Sh($"tar -cf {archive} -C {work} tree");
            long archiveBytes = new FileInfo(archive).Length;

            foreach (var (transport, url) in new[] { ("HTTP", endpoint), ("HTTPS", tlsEndpoint) })
            {
                if (!options.Transports.Contains(transport, StringComparer.OrdinalIgnoreCase))
                    continue;
                Console.WriteLine();
                Console.WriteLine($"## {transport}: {url}; parts of {(options.PartSizeMiB > 0 ? options.PartSizeMiB.ToString() : "the default")} MiB, {(options.ParallelParts > 0 ? options.ParallelParts.ToString() : "the default number")} in flight");
                await RunTransportAsync(root, work, transport, url, certificate, tree, archive, archiveBytes, runs, options, report);
            }
        }
        finally
        {
            if (Directory.Exists(cluster))
                Cluster(root, 0, "stop", cluster); // before the unmount: the daemons' logs and sockets are on it
            if (tmpfs)
                Sh($"umount {work}");
            Directory.Delete(work, recursive: true);
        }
    }

    // One daemon against one gateway: interleaved runs of backup, PUT, restore, GET and wsd's reader alone.
    static async Task RunTransportAsync(string root, string work, string transport, string endpoint, string certificate,
        string tree, string archive, long archiveBytes, int runs, StorageBenchOptions options, Report report)
    {
        using var s3 = Client(endpoint, certificate);
        int servicePort = Daemon.FreePort(), healthPort = Daemon.FreePort();
        string area = Path.Combine(work, $"area-{transport.ToLowerInvariant()}");
        string config = Path.Combine(work, $"wsd-{transport.ToLowerInvariant()}.json");
        // The daemon trusts the cluster's certificate as an operator's would trust a private CA (README, "S3 storage").
        string caFile = endpoint.StartsWith("https://") ? $$""", "caFile": "{{certificate}}" """ : "";
        string multipart = (options.PartSizeMiB > 0 ? $$""", "partSizeMiB": {{options.PartSizeMiB}}""" : "")
            + (options.ParallelParts > 0 ? $$""", "parallelParts": {{options.ParallelParts}}""" : "");
        await File.WriteAllTextAsync(config, $$"""
            { "service": { "address": "127.0.0.1:{{servicePort}}" }, "health": { "address": "127.0.0.1:{{healthPort}}" },
              "content": { "workingArea": "{{area}}", "storage": { "kind": "s3", "s3": {
                "endpoint": "{{endpoint}}", "bucket": "{{Bucket}}", "accessKey": "{{AccessKey}}", "secretKey": "{{SecretKey}}"{{caFile}}{{multipart}} } } } }
            """);
        var daemon = Daemon.Aot(root).Start(work, config);
        try
        {
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{servicePort}");
            var client = new WorkspaceContentService.WorkspaceContentServiceClient(channel);
            await BenchClient.WaitReady(client);
            // A workspace of each transport's own: a workspace's backup wins over its initializer, so
            // reusing the first transport's would restore that backup first.
            string workspace = $"bench-{transport.ToLowerInvariant()}";
            await client.InitWorkspaceAsync(BenchClient.Empty(workspace));
            string content = Path.Combine(area, workspace);
            Directory.Move(tree, Path.Combine(content, "tree"));
            long idle = BenchClient.Memory(daemon.Id, "VmRSS");

            string fetched = Path.Combine(work, "fetched.tar");
            // wsd's own reader alone, into a file: what the download costs without the extractor.
            using var store = new Wsd.Storage.S3.S3ObjectStore(new Wsd.Config.S3StorageConfig { Endpoint = endpoint, Bucket = Bucket, AccessKey = AccessKey, SecretKey = SecretKey, CaFile = caFile.Length > 0 ? certificate : "" });
            var backupKey = new Wsd.Storage.ObjectLocation(Bucket, $"bench/workspaces/{workspace}/full.tar");

            var times = new Dictionary<string, List<double>> { ["backup"] = [], ["put"] = [], ["restore"] = [], ["get"] = [], ["read"] = [], ["put-unsigned"] = [] };
            bool tls = caFile.Length > 0;
            long uploadPeak = 0, restorePeak = 0;
            // Interleaved: each run does every operation once, so a slow spell of the machine hits both sides.
            for (int run = 0; run < runs; run++)
            {
                times["backup"].Add(await BenchClient.Time(() => client.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = workspace }).ResponseAsync));
                if (run == 0)
                    uploadPeak = BenchClient.Memory(daemon.Id, "VmHWM");
                times["put"].Add(await BenchClient.Time(async () =>
                {
                    await using var file = File.OpenRead(archive);
                    await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "peer.tar", InputStream = file, UseChunkEncoding = false });
                }));
                if (tls)
                    times["put-unsigned"].Add(await BenchClient.Time(async () =>
                    {
                        await using var file = File.OpenRead(archive);
                        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "peer.tar", InputStream = file, UseChunkEncoding = false, DisablePayloadSigning = true });
                    }));
                string restored = $"{workspace}-r{run}";
                if (run == 0)
                    File.WriteAllText($"/proc/{daemon.Id}/clear_refs", "5"); // the restore's own peak, not the backup's
                times["restore"].Add(await BenchClient.Time(() => client.InitWorkspaceAsync(BenchClient.Empty(restored, meta: workspace)).ResponseAsync));
                if (run == 0)
                    restorePeak = BenchClient.Memory(daemon.Id, "VmHWM");
                await client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = restored });
                times["get"].Add(await BenchClient.Time(async () =>
                {
                    using var response = await s3.GetObjectAsync(Bucket, "peer.tar");
                    await using var file = File.Create(fetched);
                    await response.ResponseStream.CopyToAsync(file);
                }));
                File.Delete(fetched);
                times["read"].Add(await BenchClient.Time(async () =>
                {
                    await using var stored = await store.OpenReadAsync(backupKey, CancellationToken.None) ?? throw new InvalidOperationException("the backup is not there");
                    await using var file = File.Create(fetched);
                    await stored.Content.CopyToAsync(file);
                }));
                File.Delete(fetched);
                Console.Error.WriteLine($"{transport} run {run + 1}/{runs} done");
            }
            long peak = BenchClient.Memory(daemon.Id, "VmHWM");
            Directory.Move(Path.Combine(content, "tree"), tree); // for the next daemon

            double Median(string what) => BenchClient.Percentile(times[what], 50);
            string Cell(string what) => string.Create(CultureInfo.InvariantCulture,
                $"{Median(what):F2} s ({times[what].Min():F2}-{times[what].Max():F2}), {archiveBytes / 1e6 / Median(what):F0} MB/s");
            string Ratio(string wsd, string peer) => string.Create(CultureInfo.InvariantCulture,
                $"{Median(wsd) / Median(peer):F2} ({Enumerable.Range(0, runs).Min(i => times[wsd][i] / times[peer][i]):F2}-{Enumerable.Range(0, runs).Max(i => times[wsd][i] / times[peer][i]):F2})");
            Console.WriteLine($"Medians of {runs} interleaved runs (min-max); the ratio's range is of the runs' own ratios.");
            Console.WriteLine("| operation | wsd | plain SDK, same server, same bytes | wsd/plain |");
            Console.WriteLine("|---|---|---|---|");
            Console.WriteLine($"| upload: backup (archive + SHA-256 + multipart) vs one sequential PUT | {Cell("backup")} | {Cell("put")} | {Ratio("backup", "put")} |");
            Console.WriteLine($"| download: init from backup (ranged GETs + SHA-256 + extract) vs one GET into a file | {Cell("restore")} | {Cell("get")} | {Ratio("restore", "get")} |");
            if (tls)
                Console.WriteLine($"| (diagnostic) backup vs one PUT sent as UNSIGNED-PAYLOAD, as wsd sends over TLS | {Cell("backup")} | {Cell("put-unsigned")} | {Ratio("backup", "put-unsigned")} |");
            Console.WriteLine($"| (diagnostic) wsd's ranged reader alone into a file vs one GET into a file | {Cell("read")} | {Cell("get")} | {Ratio("read", "get")} |");
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"daemon RSS: idle {idle / 1048576.0:F1} MiB; peak through the first backup {uploadPeak / 1048576.0:F1} MiB (+{(uploadPeak - idle) / 1048576.0:F1} MiB for the upload), through the first restore {restorePeak / 1048576.0:F1} MiB; peak through all since then {peak / 1048576.0:F1} MiB (archive {archiveBytes / 1e6:N0} MB)"));
            string Seconds(string what) => string.Create(CultureInfo.InvariantCulture, $"{Median(what):F2} s");
            report.Add($"daemon, S3 (Ceph RGW, {transport})", "backup (archive, SHA-256, multipart, publish)", Seconds("backup"), "one PUT of the same bytes", Seconds("put"), Median("backup") / Median("put"));
            report.Add($"daemon, S3 (Ceph RGW, {transport})", "init from that backup", Seconds("restore"), "one GET of the same bytes into a file", Seconds("get"), Median("restore") / Median("get"));
        }
        finally
        {
            daemon.Kill(entireProcessTree: true);
            await daemon.WaitForExitAsync();
        }
    }

    // The SDK as the daemon configures it, trusting the cluster's own certificate over TLS.
    internal static AmazonS3Client Client(string endpoint, string certificate) => new(new BasicAWSCredentials(AccessKey, SecretKey), new AmazonS3Config
    {
        ServiceURL = endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1", Timeout = TimeSpan.FromMinutes(10),
        // As the daemon sends them: no checksums beyond what S3 requires.
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        BufferSize = 64 << 10, // the request body pieces the daemon writes (Storage/S3/S3ObjectStore.cs), not the SDK's 8 KiB
        HttpClientFactory = endpoint.StartsWith("https://") ? new Wsd.Storage.S3.PrivateCaHttpClientFactory(certificate) : null,
    });

    // tests/rgw/cluster.sh; its watchdog stops the cluster should this process die first.
    internal static void Cluster(string root, long memstoreGiB, params string[] args)
    {
        var start = new ProcessStartInfo(ClusterScript(root), args) { UseShellExecute = false, RedirectStandardOutput = true };
        start.Environment["RGW_ACCESS_KEY"] = AccessKey;
        start.Environment["RGW_SECRET_KEY"] = SecretKey;
        start.Environment["RGW_OWNER_PID"] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        if (memstoreGiB > 0)
            start.Environment["RGW_MEMSTORE_GIB"] = memstoreGiB.ToString(CultureInfo.InvariantCulture);
        using var process = Process.Start(start)!;
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"tests/rgw/cluster.sh {string.Join(' ', args)} failed ({process.ExitCode}); its logs are in {args[1]}/log");
    }

    // "ceph version 16.2.15 (...) pacific (stable)" → "Ceph RGW 16.2.15".
    static string RgwVersion()
    {
        using var process = Process.Start(new ProcessStartInfo("radosgw", ["--version"]) { UseShellExecute = false, RedirectStandardOutput = true })!;
        string[] words = process.StandardOutput.ReadToEnd().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        process.WaitForExit();
        return words.Length > 2 ? $"Ceph RGW {words[2]}" : "Ceph RGW";
    }

    static int Sh(string command)
    {
        using var process = Process.Start(new ProcessStartInfo("bash", ["-c", command]) { UseShellExecute = false })!;
        process.WaitForExit();
        return process.ExitCode;
    }
}

/// <summary>The storage stage's own settings: the daemon's multipart settings (0: its defaults) and the transports to run.</summary>
sealed record StorageBenchOptions(int PartSizeMiB, int ParallelParts, string[] Transports);
