using Wsd.Api.ContentService;
using Wsd.Api.WsDaemon;
using Wsd.Storage.Chunked;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>content.backup.format through the AOT binary with the local store: chunked backups, and either format restoring under either setting.</summary>
public class ChunkedBackupFormatTests(CephRgw rgw)
{
    static InitWorkspaceRequest Empty(string id) => new()
    {
        Id = id,
        Metadata = new WorkspaceMetadata { Owner = "user-1", MetaId = "meta-1" },
        Initializer = new WorkspaceInitializer { Empty = new EmptyInitializer() },
    };

    static Task<DaemonProcess> Daemon(TempDirectory dir, string area, string format, RgwBucket? s3 = null) =>
        DaemonProcess.StartAsync(dir, config =>
        {
            config["content"]!["workingArea"] = dir.Combine(area);
            config["content"]!["backup"] = new System.Text.Json.Nodes.JsonObject { ["format"] = format };
            if (s3 is not null)
                config["content"]!["storage"] = s3.StorageConfig();
        });

    static void Fill(string content)
    {
        Directory.CreateDirectory(content);
        File.WriteAllBytes(Path.Combine(content, "big.bin"), SampleTree.Pattern(3 << 20));
        Directory.CreateDirectory(Path.Combine(content, "src"));
        for (int i = 0; i < 50; i++)
            File.WriteAllText(Path.Combine(content, "src", $"f{i}.txt"), $"file {i}\n" + new string('x', i * 100));
    }

    static long Counter(string metrics, string series) =>
        long.Parse(metrics.Split('\n').Single(l => l.StartsWith(series + " ", StringComparison.Ordinal))[(series.Length + 1)..]);

    static void AssertSame(string expected, string actual)
    {
        Assert.Equal(File.ReadAllBytes(Path.Combine(expected, "big.bin")), File.ReadAllBytes(Path.Combine(actual, "big.bin")));
        for (int i = 0; i < 50; i++)
            Assert.Equal(File.ReadAllText(Path.Combine(expected, "src", $"f{i}.txt")), File.ReadAllText(Path.Combine(actual, "src", $"f{i}.txt")));
    }

    [Fact]
    public async Task AChunkedBackupStoresPacksAndAManifestAndEitherFormatRestoresUnderEitherSetting()
    {
        using var dir = new TempDirectory();
        string backup = dir.Combine("storage", "local", "user-1", "workspaces", "meta-1", "full.tar");
        string packs = dir.Combine("storage", "local", "user-1", "chunks", "packs");
        await using (var nodeA = await Daemon(dir, "a", "chunked"))
        {
            await nodeA.Content.InitWorkspaceAsync(Empty("ws-a"));
            Fill(dir.Combine("a", "ws-a"));
            await nodeA.Content.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = "ws-a" });
            Assert.True(ChunkedManifest.IsManifest(File.ReadAllBytes(backup)));
            int packCount = Directory.GetFiles(packs).Length;
            Assert.True(packCount > 0);

            using var http = new HttpClient();
            string metrics = await http.GetStringAsync(nodeA.HealthUri("/metrics"), TestContext.Current.CancellationToken);
            long newChunks = Counter(metrics, "wsd_chunked_backup_chunks_total{state=\"new\"}");
            long reused = Counter(metrics, "wsd_chunked_backup_chunks_total{state=\"reused\"}"); // repeats within the first backup
            long stored = Counter(metrics, "wsd_chunked_backup_stored_bytes_total");
            Assert.True(newChunks > 0 && Counter(metrics, "wsd_chunked_backup_read_bytes_total") > 3 << 20);

            // Unchanged: nothing stored but the manifest again, and the metrics say so.
            await nodeA.Content.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = "ws-a" });
            Assert.Equal(packCount, Directory.GetFiles(packs).Length);
            Assert.True(new FileInfo(backup).Length < 4096);
            metrics = await http.GetStringAsync(nodeA.HealthUri("/metrics"), TestContext.Current.CancellationToken);
            Assert.Equal(newChunks, Counter(metrics, "wsd_chunked_backup_chunks_total{state=\"new\"}"));
            Assert.Equal(reused + newChunks + reused, Counter(metrics, "wsd_chunked_backup_chunks_total{state=\"reused\"}")); // every chunk of the second
            Assert.Equal(stored + new FileInfo(backup).Length, Counter(metrics, "wsd_chunked_backup_stored_bytes_total"));
            await nodeA.Content.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-a", Backup = true });
        }
        Fill(dir.Combine("expected"));

        // The chunked backup under the tar setting; then a tar backup of it.
        await using (var nodeB = await Daemon(dir, "b", "tar"))
        {
            await nodeB.Content.InitWorkspaceAsync(Empty("ws-b"));
            AssertSame(dir.Combine("expected"), dir.Combine("b", "ws-b"));
            await nodeB.Content.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-b", Backup = true });
            Assert.False(ChunkedManifest.IsManifest(File.ReadAllBytes(backup)));
        }

        // The tar backup under the chunked setting.
        await using var nodeC = await Daemon(dir, "c", "chunked");
        await nodeC.Content.InitWorkspaceAsync(Empty("ws-c"));
        AssertSame(dir.Combine("expected"), dir.Combine("c", "ws-c"));
    }

    [Fact]
    public async Task TheFilesCacheSparesReadingUnchangedLargeFilesButNotOnesRewrittenWithTheirMtimeSetBack()
    {
        using var dir = new TempDirectory();
        string content = dir.Combine("a", "ws-a"), cache = dir.Combine("a", "ws-a.files-cache");
        await using (var node = await Daemon(dir, "a", "chunked"))
        {
            await node.Content.InitWorkspaceAsync(Empty("ws-a"));
            Fill(content);
            using var http = new HttpClient();
            async Task<long> Unread() => Counter(await http.GetStringAsync(node.HealthUri("/metrics"), TestContext.Current.CancellationToken),
                "wsd_chunked_backup_unread_bytes_total");
            // A file changed within a second of a backup's start is read again next time; these are older.
            await Task.Delay(1100, TestContext.Current.CancellationToken);
            await node.Content.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = "ws-a" });
            Assert.True(File.Exists(cache));
            Assert.Equal(0, await Unread());

            // Every file of 4 KiB or more is remembered (ChunkedBackupOptions.LargeMemberBytes).
            long cached = Directory.EnumerateFiles(content, "*", SearchOption.AllDirectories).Select(f => new FileInfo(f).Length).Where(l => l >= 4096).Sum();
            await node.Content.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = "ws-a" });
            Assert.Equal(cached, await Unread());

            // Rewritten in place, same size, mtime put back: the ctime moved, so it is read.
            string big = Path.Combine(content, "big.bin");
            var mtime = File.GetLastWriteTimeUtc(big);
            using (var handle = File.OpenHandle(big, FileMode.Open, FileAccess.Write))
                RandomAccess.Write(handle, "rewritten"u8, 1000);
            File.SetLastWriteTimeUtc(big, mtime);
            await node.Content.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = "ws-a" });
            Assert.Equal(cached + cached - (3 << 20), await Unread());

            // A cache that is garbage is none: the backup reads everything and succeeds.
            File.WriteAllText(cache, "garbage");
            await node.Content.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-a", Backup = true });
            Assert.Equal(cached + cached - (3 << 20), await Unread());
            Assert.False(File.Exists(cache));
        }

        await using var nodeB = await Daemon(dir, "b", "chunked");
        await nodeB.Content.InitWorkspaceAsync(Empty("ws-b"));
        byte[] expected = SampleTree.Pattern(3 << 20);
        "rewritten"u8.CopyTo(expected.AsSpan(1000));
        Assert.Equal(expected, File.ReadAllBytes(dir.Combine("b", "ws-b", "big.bin")));
    }

    [Fact]
    public async Task ArchiveShowAndToTarReadEitherFormatFromTheConfiguredStoreAndRefuseADamagedPack()
    {
        using var dir = new TempDirectory();
        string config;
        await using (var node = await Daemon(dir, "a", "chunked"))
        {
            await node.Content.InitWorkspaceAsync(Empty("ws-a"));
            Fill(dir.Combine("a", "ws-a"));
            await node.Content.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = "ws-a" });
            config = node.ConfigPath;
        }
        const string backup = "user-1/workspaces/meta-1/full.tar";

        var (exitCode, stderr) = await ArchiveCommandTests.Shell(dir.Path,
            $"$WSD archive to-tar {backup} --config {config} > out.tar 2>to-tar.json && mkdir x && tar -xf out.tar -C x && " +
            $"$WSD archive show {backup}@local --config {config} > show.json");

        Assert.True(exitCode == 0, stderr);
        Fill(dir.Combine("expected"));
        AssertSame(dir.Combine("expected"), dir.Combine("x"));
        byte[] tar = File.ReadAllBytes(dir.Combine("out.tar"));
        using var show = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.Combine("show.json")));
        var shown = show.RootElement;
        Assert.Equal("chunked", shown.GetProperty("format").GetString());
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(tar)), shown.GetProperty("sha256").GetString());
        Assert.Equal(tar.Length, shown.GetProperty("tarBytes").GetInt64());
        Assert.Equal(51, shown.GetProperty("files").GetInt64());
        long chunks = shown.GetProperty("chunks").GetInt64(), distinct = shown.GetProperty("distinctChunks").GetInt64();
        Assert.True(chunks >= distinct && distinct > 3, $"{chunks} chunks, {distinct} distinct"); // big.bin alone is several
        Assert.True(shown.GetProperty("packs").GetArrayLength() > 0 && shown.GetProperty("storedBytes").GetInt64() > 0);

        // The same tar as a tar-format object beside it: shown as tar, same members.
        File.Copy(dir.Combine("out.tar"), dir.Combine("storage", "local", "user-1", "workspaces", "meta-1", "plain.tar"));
        (exitCode, stderr) = await ArchiveCommandTests.Shell(dir.Path, $"$WSD archive show user-1/workspaces/meta-1/plain.tar --config {config} > plain.json");
        Assert.True(exitCode == 0, stderr);
        using var plain = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.Combine("plain.json")));
        Assert.Equal("tar", plain.RootElement.GetProperty("format").GetString());
        Assert.Equal(51, plain.RootElement.GetProperty("files").GetInt64());

        // A damaged pack is refused with the pack named, as a restore refuses it.
        string pack = Directory.GetFiles(dir.Combine("storage", "local", "user-1", "chunks", "packs")).OrderByDescending(f => new FileInfo(f).Length).First();
        using (var handle = File.OpenHandle(pack, FileMode.Open, FileAccess.ReadWrite))
        {
            var one = new byte[1];
            RandomAccess.Read(handle, one, 5000);
            one[0] ^= 0xFF;
            RandomAccess.Write(handle, one, 5000);
        }
        (exitCode, stderr) = await ArchiveCommandTests.Shell(dir.Path, $"$WSD archive to-tar {backup} --config {config} > /dev/null");
        Assert.Equal(1, exitCode);
        Assert.Contains("is damaged", stderr);
        Assert.Contains(Path.GetFileName(pack), stderr);
    }

    [Fact]
    public async Task AChunkedBackupThroughS3RestoresOnAnotherNode()
    {
        using var dir = new TempDirectory();
        var s3 = await rgw.NewBucketAsync();
        await using (var nodeA = await Daemon(dir, "a", "chunked", s3))
        {
            await nodeA.Content.InitWorkspaceAsync(Empty("ws-a"));
            Fill(dir.Combine("a", "ws-a"));
            await nodeA.Content.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-a", Backup = true });
        }
        Fill(dir.Combine("expected"));

        await using var nodeB = await Daemon(dir, "b", "chunked", s3);
        await nodeB.Content.InitWorkspaceAsync(Empty("ws-b"));

        AssertSame(dir.Combine("expected"), dir.Combine("b", "ws-b"));
        using var plain = s3.Client();
        var listing = await plain.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = s3.Name, Prefix = "user-1/chunks/packs/" });
        Assert.NotEmpty(listing.S3Objects ?? []);
    }
}
