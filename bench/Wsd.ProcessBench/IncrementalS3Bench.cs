using System.Globalization;
using Amazon.S3;
using Amazon.S3.Model;

namespace Wsd.ProcessBench;

/// <summary>
/// The incremental stage through S3: the daemon with each format and restic backing up one tree to
/// a Ceph RADOS Gateway on loopback (the cluster the tests use), each into a bucket of its own:
/// first backup, no change, a 1% change. What each sent is measured at the service: the bucket's
/// growth, and for the chunked daemon its own count of bytes stored, which includes the manifest it
/// writes over the previous one.
/// </summary>
static class IncrementalS3Bench
{
    public static async Task RunAsync(string root, string work, string tree, string label, Report report)
    {
        string cluster = Path.Combine(work, "rgw");
        int port = Daemon.FreePort();
        long treeBytes = IncrementalBench.DirectoryBytes(tree);
        StorageBench.Cluster(root, Math.Max(8, treeBytes * 6 / (1L << 30) + 2), "start", cluster, port.ToString(CultureInfo.InvariantCulture));
        try
        {
            string endpoint = $"http://127.0.0.1:{port}";
            using var s3 = StorageBench.Client(endpoint, "");
            foreach (var bucket in new[] { "inc-tar", "inc-chunked", "inc-restic" })
                await s3.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
            string Storage(string bucket) => $$"""
                { "kind": "s3", "s3": { "endpoint": "{{endpoint}}", "bucket": "{{bucket}}", "accessKey": "{{StorageBench.AccessKey}}", "secretKey": "{{StorageBench.SecretKey}}" } }
                """;
            await using var tar = await DaemonTool.StartAsync(root, work, "tar", tree, s3: Storage("inc-tar"));
            await using var chunked = await DaemonTool.StartAsync(root, work, "chunked", tree, s3: Storage("inc-chunked"));
            var restic = new ResticTool(work, tree, $"s3:{endpoint}/inc-restic",
                $"AWS_ACCESS_KEY_ID={StorageBench.AccessKey} AWS_SECRET_ACCESS_KEY={StorageBench.SecretKey}");
            var churn = new Churn(tree, [tar.Content, chunked.Content]);
            var rows = new List<(string Step, string Tool, double Seconds, long Sent)>();

            async Task Step(string step)
            {
                foreach (var (tool, bucket) in new (IBackupTool, string)[] { (tar, "inc-tar"), (chunked, "inc-chunked"), (restic, "inc-restic") })
                {
                    long before = await BucketBytesAsync(s3, bucket);
                    long storedBefore = tool == chunked ? await chunked.CounterAsync("wsd_chunked_backup_stored_bytes_total") : 0;
                    double seconds = await BenchClient.Time(tool.BackupAsync);
                    long after = await BucketBytesAsync(s3, bucket);
                    long sent = tool == chunked ? await chunked.CounterAsync("wsd_chunked_backup_stored_bytes_total") - storedBefore
                        : tool == tar ? await ObjectBytesAsync(s3, bucket, "bench/workspaces/incremental/full.tar") : after - before;
                    rows.Add((step, tool.Name, seconds, sent));
                }
            }
            await Step("first backup");
            await Step("no-change backup");
            churn.Apply();
            await Step("1% change backup");

            Console.WriteLine();
            Console.WriteLine($"## through S3 (Ceph RGW on loopback, HTTP): {label}");
            Console.WriteLine("| step | wsd tar | wsd chunked | restic |");
            Console.WriteLine("|---|---|---|---|");
            foreach (var step in rows.Select(r => r.Step).Distinct())
                Console.WriteLine($"| {step} | {string.Join(" | ", rows.Where(r => r.Step == step).Select(r => S($"{r.Seconds:F2} s, sent {r.Sent / 1e6:F3} MB")))} |");
            Console.WriteLine("Sent: the object a tar backup writes; the bytes the chunked daemon stored (its metric, manifest included); restic's bucket growth.");

            var section = $"incremental through S3, {label}";
            (double Seconds, long Sent) Of(string step, string tool) => rows.Where(r => r.Step == step && r.Tool == tool).Select(r => (r.Seconds, r.Sent)).Single();
            var noChange = Of("no-change backup", chunked.Name);
            report.Add(section, "no-change backup: bytes sent", S($"{noChange.Sent / 1e6:F3} MB"), "restic", S($"{Of("no-change backup", "restic").Sent / 1e6:F3} MB"),
                (double)noChange.Sent / Math.Max(1, Of("no-change backup", "restic").Sent));
            report.Add(section, "no-change backup: time", S($"{noChange.Seconds:F2} s"), "wsd tar", S($"{Of("no-change backup", tar.Name).Seconds:F2} s"),
                noChange.Seconds / Of("no-change backup", tar.Name).Seconds);
            var changed = Of("1% change backup", chunked.Name);
            report.Add(section, "1% change backup: bytes sent", S($"{changed.Sent / 1e6:F1} MB"), "restic", S($"{Of("1% change backup", "restic").Sent / 1e6:F1} MB"),
                (double)changed.Sent / Math.Max(1, Of("1% change backup", "restic").Sent));
        }
        finally
        {
            StorageBench.Cluster(root, 0, "stop", cluster);
            Shell.Run($"rm -rf {work}/daemon-* {work}/restic-cache", check: false);
        }
    }

    static async Task<long> BucketBytesAsync(AmazonS3Client s3, string bucket)
    {
        long bytes = 0;
        string? token = null;
        do
        {
            var page = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, ContinuationToken = token });
            bytes += (page.S3Objects ?? []).Sum(o => o.Size ?? 0);
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        return bytes;
    }

    static async Task<long> ObjectBytesAsync(AmazonS3Client s3, string bucket, string key) =>
        (await s3.GetObjectMetadataAsync(bucket, key)).ContentLength;

    static string S(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
