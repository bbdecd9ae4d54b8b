using Grpc.Core;
using Wsd.Api.ContentService;
using Wsd.Api.WsDaemon;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>The s3 storage kind through the AOT binary against Ceph RGW on loopback, a bucket per test.</summary>
public class S3StorageTests(CephRgw rgw)
{
    static InitWorkspaceRequest Empty(string id, string meta) => new()
    {
        Id = id,
        Metadata = new WorkspaceMetadata { Owner = "user-1", MetaId = meta },
        Initializer = new WorkspaceInitializer { Empty = new EmptyInitializer() },
    };

    /// <summary>A daemon with its working area in <paramref name="area"/>, storing to <paramref name="s3"/>; <paramref name="tweak"/> edits the s3 section.</summary>
    static Task<DaemonProcess> Daemon(TempDirectory dir, RgwBucket s3, string area, Action<System.Text.Json.Nodes.JsonNode>? tweak = null,
        IReadOnlyDictionary<string, string>? environment = null) =>
        DaemonProcess.StartAsync(dir, config =>
        {
            config["content"]!["workingArea"] = dir.Combine(area);
            var storage = s3.StorageConfig();
            tweak?.Invoke(storage["s3"]!);
            config["content"]!["storage"] = storage;
        }, environment: environment);

    [Fact]
    public async Task AWorkspaceBackedUpOnOneNodeIsRestoredOnAnother()
    {
        using var dir = new TempDirectory();
        var s3 = await rgw.NewBucketAsync();
        byte[] data = SampleTree.Pattern(12 << 20); // three 5 MiB parts (the last one short)

        await using (var nodeA = await Daemon(dir, s3, "node-a"))
        {
            var client = nodeA.Content;
            await client.InitWorkspaceAsync(Empty("ws-a", "meta-1"));
            File.WriteAllBytes(dir.Combine("node-a", "ws-a", "data.bin"), data);
            File.WriteAllText(dir.Combine("node-a", "ws-a", "notes.txt"), "from node a\n");
            await client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-a", Backup = true });
        }

        await using var nodeB = await Daemon(dir, s3, "node-b");
        var clientB = nodeB.Content;
        await clientB.InitWorkspaceAsync(Empty("ws-b", "meta-1"));

        Assert.Equal(data, File.ReadAllBytes(dir.Combine("node-b", "ws-b", "data.bin")));
        Assert.Equal("from node a\n", File.ReadAllText(dir.Combine("node-b", "ws-b", "notes.txt")));
        Assert.Contains("\"source\":\"from-backup\"", File.ReadAllText(dir.Combine("node-b", "ws-b", ".gitpod", "ready")));
    }

    [Fact]
    public async Task SnapshotsCarryTheBucketAndAMissingOneIsNotFound()
    {
        using var dir = new TempDirectory();
        var s3 = await rgw.NewBucketAsync();
        await using var daemon = await Daemon(dir, s3, "area");
        var client = daemon.Content;
        await client.InitWorkspaceAsync(Empty("ws-1", "meta-1"));
        File.WriteAllText(dir.Combine("area", "ws-1", "f"), "snap");

        var snapshot = await client.TakeSnapshotAsync(new TakeSnapshotRequest { Id = "ws-1" });
        await client.InitWorkspaceAsync(new InitWorkspaceRequest
        {
            Id = "ws-2",
            Metadata = new WorkspaceMetadata { Owner = "user-2", MetaId = "meta-2" },
            Initializer = new WorkspaceInitializer { Snapshot = new SnapshotInitializer { Snapshot = snapshot.Url } },
        });
        var missing = await Assert.ThrowsAsync<RpcException>(async () => await client.InitWorkspaceAsync(new InitWorkspaceRequest
        {
            Id = "ws-3",
            Metadata = new WorkspaceMetadata { Owner = "user-2", MetaId = "meta-3" },
            Initializer = new WorkspaceInitializer { Snapshot = new SnapshotInitializer { Snapshot = $"user-1/workspaces/meta-1/snapshot-1.tar@{s3.Name}" } },
        }));

        Assert.EndsWith($".tar@{s3.Name}", snapshot.Url);
        Assert.Equal("snap", File.ReadAllText(dir.Combine("area", "ws-2", "f")));
        Assert.Equal((StatusCode.NotFound, "cannot find snapshot"), (missing.StatusCode, missing.Status.Detail));
    }

    [Fact]
    public async Task ATamperedObjectIsDataLoss()
    {
        using var dir = new TempDirectory();
        var s3 = await rgw.NewBucketAsync();
        await using var daemon = await Daemon(dir, s3, "area");
        var client = daemon.Content;
        await client.InitWorkspaceAsync(Empty("ws-1", "meta-1"));
        File.WriteAllBytes(dir.Combine("area", "ws-1", "data.bin"), SampleTree.Pattern(1 << 20));
        await client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-1", Backup = true });

        // Rot inside the stored object: same size, same ETag on record, different bytes.
        await rgw.OverwriteStoredBytesAsync(s3, Wsd.Storage.ObjectNames.Key("user-1", "meta-1", Wsd.Storage.ObjectNames.Backup), 4096, new byte[64]);
        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.InitWorkspaceAsync(Empty("ws-2", "meta-1")));

        Assert.Equal(StatusCode.DataLoss, e.StatusCode);
        Assert.Contains("damaged", e.Status.Detail);
        Assert.False(Directory.Exists(dir.Combine("area", "ws-2")));
    }

    [Fact]
    public async Task AnUploadCutMidwayLeavesThePreviousBackupIntact()
    {
        using var dir = new TempDirectory();
        var s3 = await rgw.NewBucketAsync();
        await using var proxy = new FaultProxy(s3.Port);
        await using var daemon = await Daemon(dir, s3, "area", s3Section =>
        {
            s3Section["endpoint"] = $"http://127.0.0.1:{proxy.Port}";
            s3Section["maxRetries"] = 1;
        });
        var client = daemon.Content;
        await client.InitWorkspaceAsync(Empty("ws-1", "meta-1"));
        File.WriteAllText(dir.Combine("area", "ws-1", "version.txt"), "1");
        await client.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = "ws-1" });

        File.WriteAllText(dir.Combine("area", "ws-1", "version.txt"), "2");
        File.WriteAllBytes(dir.Combine("area", "ws-1", "big.bin"), SampleTree.Pattern(16 << 20));
        proxy.ResetCounter();
        proxy.CutAfterBytes = 7 << 20; // inside the second part, every time it is retried
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = "ws-1" }, deadline: DateTime.UtcNow.AddMinutes(5)));
        Assert.Equal(StatusCode.DataLoss, e.StatusCode);
        Assert.Equal("2", File.ReadAllText(dir.Combine("area", "ws-1", "version.txt")));
        TestContext.Current.TestOutputHelper?.WriteLine($"the cut upload failed after {clock.Elapsed.TotalSeconds:F1} s");

        // Another node, straight to the server: it finds the previous backup, whole.
        await using var other = await Daemon(dir, s3, "other-node");
        using var otherChannel = other.Channel();
        await new WorkspaceContentService.WorkspaceContentServiceClient(otherChannel).InitWorkspaceAsync(Empty("ws-2", "meta-1"));
        Assert.Equal("1", File.ReadAllText(dir.Combine("other-node", "ws-2", "version.txt")));
        Assert.False(File.Exists(dir.Combine("other-node", "ws-2", "big.bin")));
    }

    [Theory]
    [InlineData(FaultProxy.Fault.ServiceUnavailable, "ServiceUnavailable")]
    [InlineData(FaultProxy.Fault.Blackhole, "")]
    public async Task ServerErrorsAndTimeoutsFailTheBackupClearly(FaultProxy.Fault fault, string expected)
    {
        using var dir = new TempDirectory();
        var s3 = await rgw.NewBucketAsync();
        await using var proxy = new FaultProxy(s3.Port);
        await using var daemon = await Daemon(dir, s3, "area", s3Section =>
        {
            s3Section["endpoint"] = $"http://127.0.0.1:{proxy.Port}";
            s3Section["maxRetries"] = 1;
            s3Section["requestTimeout"] = "2s";
        });
        var client = daemon.Content;
        await client.InitWorkspaceAsync(Empty("ws-1", "meta-1"));
        File.WriteAllText(dir.Combine("area", "ws-1", "f"), "kept");
        proxy.Mode = fault;

        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = "ws-1" }, deadline: DateTime.UtcNow.AddMinutes(3)));

        Assert.Equal(StatusCode.DataLoss, e.StatusCode);
        Assert.StartsWith("final backup failed", e.Status.Detail);
        Assert.Contains(expected, e.Status.Detail);
        Assert.Equal("kept", File.ReadAllText(dir.Combine("area", "ws-1", "f")));
        using var http = new HttpClient();
        string metrics = await http.GetStringAsync(daemon.HealthUri("/metrics"), TestContext.Current.CancellationToken);
        Assert.Contains("wsd_backups_total{kind=\"backup\",result=\"failed\"} 1", metrics);
        Assert.Contains("wsd_grpc_handled_total{method=\"wsdaemon.WorkspaceContentService/BackupWorkspace\",code=\"DataLoss\"} 1", metrics);
    }

    [Fact]
    public async Task AMissingBucketIsAClearError()
    {
        using var dir = new TempDirectory();
        var s3 = await rgw.NewBucketAsync();
        await using var daemon = await Daemon(dir, s3, "area", s3Section =>
        {
            s3Section["bucket"] = "no-such-bucket";
        });
        var client = daemon.Content;
        await client.InitWorkspaceAsync(Empty("ws-1", "meta-1"));

        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = "ws-1" }));

        Assert.Equal(StatusCode.DataLoss, e.StatusCode);
        Assert.Contains("full.tar@no-such-bucket: NoSuchBucket", e.Status.Detail);
    }

    [Fact]
    public async Task AServerThatIsGoneFailsTheBackupAndKeepsTheWorkspaceAndTheDisposeSucceedsOnceItIsBack()
    {
        using var dir = new TempDirectory();
        var s3 = await rgw.NewBucketAsync();
        await using var gateway = await rgw.OwnGatewayAsync(); // killed below: the other tests keep the shared one
        await using var daemon = await Daemon(dir, gateway.Serving(s3), "area");
        var client = daemon.Content;
        await client.InitWorkspaceAsync(Empty("ws-1", "meta-1"));
        File.WriteAllText(dir.Combine("area", "ws-1", "f"), "precious");
        await gateway.KillAsync();

        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-1", Backup = true }, deadline: DateTime.UtcNow.AddMinutes(3)));
        Assert.Equal(StatusCode.DataLoss, e.StatusCode);
        Assert.Equal("precious", File.ReadAllText(dir.Combine("area", "ws-1", "f")));

        await gateway.RestartAsync();
        await client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-1", Backup = true }, deadline: DateTime.UtcNow.AddMinutes(3));
        await using var other = await Daemon(dir, s3, "other-node");
        await other.Content.InitWorkspaceAsync(Empty("ws-2", "meta-1"));
        Assert.Equal("precious", File.ReadAllText(dir.Combine("other-node", "ws-2", "f")));
    }

    [Fact]
    public async Task AWorkspaceBacksUpAndRestoresOverTlsTrustingAPrivateCaByCaFileOrSslCertFile()
    {
        using var dir = new TempDirectory();
        var s3 = await rgw.NewBucketAsync();
        await using var gateway = await rgw.OwnTlsGatewayAsync();
        var overTls = gateway.Serving(s3);
        byte[] data = SampleTree.Pattern(12 << 20); // three parts, sent unsigned over TLS

        await using (var nodeA = await Daemon(dir, overTls, "node-a"))
        {
            await nodeA.Content.InitWorkspaceAsync(Empty("ws-a", "meta-1"));
            File.WriteAllBytes(dir.Combine("node-a", "ws-a", "data.bin"), data);
            await nodeA.Content.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-a", Backup = true });
        }
        // The other node trusts it the process-wide way, through OpenSSL's variable, instead of caFile.
        await using var nodeB = await Daemon(dir, overTls, "node-b", s3Section => s3Section["caFile"] = "",
            new Dictionary<string, string> { ["SSL_CERT_FILE"] = gateway.CaFile! });
        await nodeB.Content.InitWorkspaceAsync(Empty("ws-b", "meta-1"));

        Assert.Equal(data, File.ReadAllBytes(dir.Combine("node-b", "ws-b", "data.bin")));
        // What RGW stored is the archive with its trailer, whichever way it came.
        using var plain = s3.Client();
        var head = await plain.GetObjectMetadataAsync(s3.Name, "user-1/workspaces/meta-1/full.tar");
        Assert.Equal("trailer-v1", head.Metadata["x-amz-meta-wsd-digest"]);
    }

    [Fact]
    public async Task AServiceCertificateNobodyTrustsFailsTheInitSayingWhatToSet()
    {
        using var dir = new TempDirectory();
        var s3 = await rgw.NewBucketAsync();
        await using var gateway = await rgw.OwnTlsGatewayAsync();
        await using var daemon = await Daemon(dir, gateway.Serving(s3), "area", s3Section => s3Section["caFile"] = "");

        // The init looks for the workspace's own backup first, so it is the first to meet the certificate.
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await daemon.Content.InitWorkspaceAsync(Empty("ws-1", "meta-1"), deadline: DateTime.UtcNow.AddMinutes(2)));

        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Contains("user-1/workspaces/meta-1/full.tar", e.Status.Detail);
        Assert.Contains("TLS certificate is not trusted", e.Status.Detail);
        Assert.Contains("content.storage.s3.caFile", e.Status.Detail);
        Assert.False(Directory.Exists(dir.Combine("area", "ws-1")));
    }

    [Fact]
    public async Task AGatewayKilledMidRestoreFailsTheInitClearlyAndKeepsNothingOfIt()
    {
        using var dir = new TempDirectory();
        var s3 = await rgw.NewBucketAsync();
        byte[] data = SampleTree.Pattern(24 << 20);
        await using (var nodeA = await Daemon(dir, s3, "node-a"))
        {
            await nodeA.Content.InitWorkspaceAsync(Empty("ws-a", "meta-1"));
            File.WriteAllBytes(dir.Combine("node-a", "ws-a", "data.bin"), data);
            await nodeA.Content.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = "ws-a", Backup = true });
        }
        await using var gateway = await rgw.OwnGatewayAsync();
        await using var proxy = new FaultProxy(gateway.Port)
        {
            ResponseBytesTrigger = 10 << 20, // a third of the way into the archive
            OnResponseBytes = gateway.KillAsync,
        };
        await using var nodeB = await Daemon(dir, s3, "node-b", s3Section =>
        {
            s3Section["endpoint"] = $"http://127.0.0.1:{proxy.Port}";
            s3Section["maxRetries"] = 1;
        });

        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await nodeB.Content.InitWorkspaceAsync(Empty("ws-b", "meta-1"), deadline: DateTime.UtcNow.AddMinutes(3)));

        Assert.True(e.StatusCode == StatusCode.Unavailable, $"{e.StatusCode}: {e.Status.Detail}");
        Assert.Contains("full.tar", e.Status.Detail);
        Assert.False(Directory.Exists(dir.Combine("node-b", "ws-b")), "a half-restored workspace was kept");
        var exists = await nodeB.Content.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "ws-b" });
        Assert.False(exists.Exists);

        // Once the service is back the same init restores it whole.
        await gateway.RestartAsync();
        await nodeB.Content.InitWorkspaceAsync(Empty("ws-b", "meta-1"), deadline: DateTime.UtcNow.AddMinutes(3));
        Assert.Equal(data, File.ReadAllBytes(dir.Combine("node-b", "ws-b", "data.bin")));
    }
}
