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
/// Backup to and restore from a local S3-compatible server (s3rver) of a generated workspace,
/// beside the same server's throughput for one sequential PUT and GET of an archive of the same
/// tree with the same SDK, in the same run; and the daemon's peak RSS.
/// </summary>
static class StorageBench
{
    const string Bucket = "wsd-bench";

    /// <summary>Where <c>./build.sh deps</c> and <c>./build.sh bench</c> install s3rver.</summary>
    public static string S3rverPath(string root) => Path.Combine(root, ".tools", "node_modules", ".bin", "s3rver");

    public static async Task RunAsync(string root, long sizeMiB, int smallFiles, Report report)
    {
        string s3rver = S3rverPath(root);
        string work = Directory.CreateTempSubdirectory("wsd-storage-bench-").FullName;
        File.SetUnixFileMode(work, (UnixFileMode)0x1ED);
        bool tmpfs = Sh($"mount -t tmpfs -o size={sizeMiB * 8 + 2048}m wsd-bench {work}") == 0;
        Process? server = null, daemon = null;
        try
        {
            int s3Port = Daemon.FreePort(), servicePort = Daemon.FreePort(), healthPort = Daemon.FreePort();
            server = Process.Start(new ProcessStartInfo(s3rver, ["-d", $"{work}/s3", "-a", "127.0.0.1", "-p", s3Port.ToString(), "--silent", "--configure-bucket", Bucket]) { UseShellExecute = false })!;
            string config = Path.Combine(work, "wsd.json");
            await File.WriteAllTextAsync(config, $$"""
                { "service": { "address": "127.0.0.1:{{servicePort}}" }, "health": { "address": "127.0.0.1:{{healthPort}}" },
                  "content": { "workingArea": "{{work}}/area", "storage": { "kind": "s3", "s3": {
                    "endpoint": "http://127.0.0.1:{{s3Port}}", "bucket": "{{Bucket}}", "accessKey": "S3RVER", "secretKey": "S3RVER" } } } }
                """);
            daemon = Daemon.Aot(root).Start(work, config);
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{servicePort}");
            var client = new WorkspaceContentService.WorkspaceContentServiceClient(channel);
            await BenchClient.WaitReady(client);

            await client.InitWorkspaceAsync(BenchClient.Empty("bench-0"));
            string content = Path.Combine(work, "area", "bench-0");
            var (files, bytes) = TreeGenerator.Create(Path.Combine(content, "tree"), sizeMiB << 20, smallFiles);
            Console.WriteLine($"workspace: {files:N0} files, {bytes / 1e6:N0} MB; s3rver 3.7.1 on loopback, data on {(tmpfs ? "tmpfs" : "the working disk")}");

            double backup = await BenchClient.Time(() => client.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = "bench-0" }).ResponseAsync);
            double restore = await BenchClient.Time(() => client.InitWorkspaceAsync(BenchClient.Empty("bench-1", meta: "bench-0")).ResponseAsync);
            long peak = BenchClient.Memory(daemon.Id, "VmHWM");

            // The peer: the same bytes (a tar of the same tree) as one sequential PUT and GET with the same SDK.
            string archive = Path.Combine(work, "peer.tar");
            Sh($"tar -cf {archive} -C {content} .");
            long archiveBytes = new FileInfo(archive).Length;
            using var s3 = new AmazonS3Client(new BasicAWSCredentials("S3RVER", "S3RVER"),
                new AmazonS3Config { ServiceURL = $"http://127.0.0.1:{s3Port}", ForcePathStyle = true, AuthenticationRegion = "us-east-1", Timeout = TimeSpan.FromMinutes(10) });
            double put = await BenchClient.Time(async () =>
            {
                await using var file = File.OpenRead(archive);
                await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "peer.tar", InputStream = file, UseChunkEncoding = false });
            });
            double get = await BenchClient.Time(async () =>
            {
                using var response = await s3.GetObjectAsync(Bucket, "peer.tar");
                await response.ResponseStream.CopyToAsync(Stream.Null);
            });

            Console.WriteLine();
            Console.WriteLine("| operation | wsd daemon | plain SDK, same server, same bytes | wsd/plain |");
            Console.WriteLine("|---|---|---|---|");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| upload: backup (archive + SHA-256 + multipart) vs sequential PUT | {backup:F2} s, {archiveBytes / 1e6 / backup:F0} MB/s | {put:F2} s, {archiveBytes / 1e6 / put:F0} MB/s | {backup / put:F2} |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| download: init from backup (ranged GETs + verify + extract) vs sequential GET | {restore:F2} s, {archiveBytes / 1e6 / restore:F0} MB/s | {get:F2} s, {archiveBytes / 1e6 / get:F0} MB/s | {restore / get:F2} |"));
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"daemon peak RSS through both: {peak / 1048576.0:F1} MiB (archive {archiveBytes / 1e6:N0} MB)"));
            string Seconds(double s) => string.Create(CultureInfo.InvariantCulture, $"{s:F2} s");
            report.Add("daemon, S3 (s3rver)", "backup (archive, SHA-256, multipart, publish)", Seconds(backup), "one PUT of the same bytes", Seconds(put), backup / put);
            report.Add("daemon, S3 (s3rver)", "init from that backup", Seconds(restore), "one GET of the same bytes", Seconds(get), restore / get);
        }
        finally
        {
            foreach (var process in new[] { daemon, server })
            {
                if (process is { HasExited: false })
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }
            if (tmpfs)
                Sh($"umount {work}");
            Directory.Delete(work, recursive: true);
        }
    }

    static int Sh(string command)
    {
        using var process = Process.Start(new ProcessStartInfo("bash", ["-c", command]) { UseShellExecute = false })!;
        process.WaitForExit();
        return process.ExitCode;
    }
}
