using System.Diagnostics;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

[assembly: AssemblyFixture(typeof(Wsd.Tests.Support.CephRgw))]

namespace Wsd.Tests.Support;

/// <summary>
/// A real Ceph RADOS Gateway for the S3 tests: one single-node cluster (monitor, RAM-backed OSD,
/// radosgw) on loopback for the whole test run, made by <c>tests/rgw/cluster.sh</c>
/// (docs/platform.md#ceph-rgw-in-tests). It starts the first time a test asks for a bucket, so a run
/// without S3 tests never starts it, and is stopped when the run ends; should the test process die
/// instead, the script's watchdog stops it. Each test gets a bucket of its own. A test that kills
/// its gateway takes one of its own on the same cluster (<see cref="OwnGatewayAsync"/>).
/// <c>WSD_RGW_KEEP=1</c> keeps the cluster's directory, with its logs, after the run.
/// </summary>
public sealed class CephRgw : IAsyncDisposable
{
    public const string AccessKey = "WSDTESTACCESSKEY00001";
    public const string SecretKey = "wsd-test-secret-key-not-for-production";

    static readonly string Script = Path.Combine(RepositoryPaths.Root, "tests", "rgw", "cluster.sh");
    static readonly string[] Binaries = ["ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "monmaptool", "ceph", "rados"];

    readonly Lazy<Task<int>> _cluster;
    readonly string _directory = Path.Combine(Path.GetTempPath(), "wsd-rgw-" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..12]);
    int _buckets;

    public CephRgw()
    {
        _cluster = new Lazy<Task<int>>(StartClusterAsync);
    }

    /// <summary>The cluster's directory: its config, logs and sockets.</summary>
    public string Directory => _directory;

    async Task<int> StartClusterAsync()
    {
        int port = FreePort.Next();
        var clock = Stopwatch.StartNew();
        await RunScriptAsync(TimeSpan.FromMinutes(2), "start", _directory, port.ToString(), FreePort.Next().ToString());
        // In the output of the test that waited for it.
        TestContext.Current.TestOutputHelper?.WriteLine($"Ceph RGW serving on 127.0.0.1:{port} after {clock.Elapsed.TotalSeconds:F1} s ({_directory})");
        return port;
    }

    /// <summary>The shared gateway's port; skips the test when the Ceph packages are not installed.</summary>
    async Task<int> SharedPortAsync()
    {
        string[] missing = Binaries.Where(b => !Tools.Exists(b)).ToArray();
        Assert.SkipWhen(missing.Length > 0,
            $"{string.Join(", ", missing)} not installed (apt packages ceph-mon ceph-osd radosgw; ./build.sh deps installs them): no Ceph RGW to test against");
        return await _cluster.Value;
    }

    /// <summary>A new, empty bucket on the shared gateway, for one test.</summary>
    public async Task<RgwBucket> NewBucketAsync()
    {
        int port = await SharedPortAsync();
        var bucket = new RgwBucket($"wsd-test-{Interlocked.Increment(ref _buckets)}-{Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..8]}", port);
        using var client = bucket.Client();
        await client.PutBucketAsync(new PutBucketRequest { BucketName = bucket.Name });
        return bucket;
    }

    /// <summary>A radosgw of the test's own on the shared cluster, to kill and restart without disturbing the others.</summary>
    public async Task<RgwGateway> OwnGatewayAsync()
    {
        await SharedPortAsync();
        int port = FreePort.Next();
        await RunScriptAsync(TimeSpan.FromMinutes(1), "gateway", _directory, port.ToString());
        return new RgwGateway(this, port);
    }

    /// <summary>
    /// A radosgw of the test's own serving HTTPS, with a self-signed certificate for 127.0.0.1 that
    /// only clients given its file trust (<see cref="RgwGateway.CaFile"/>).
    /// </summary>
    public async Task<RgwGateway> OwnTlsGatewayAsync()
    {
        await SharedPortAsync();
        Assert.SkipWhen(!Tools.Exists("openssl") || !Tools.Exists("curl"), "openssl or curl not installed (./build.sh deps installs them): no certificate for a TLS gateway");
        int port = FreePort.Next();
        await RunScriptAsync(TimeSpan.FromMinutes(1), "tls-gateway", _directory, port.ToString());
        return new RgwGateway(this, port, Path.Combine(_directory, "tls", "cert.pem"));
    }

    /// <summary>
    /// Overwrites bytes of a stored object inside RADOS, under the gateway: rot on the storage
    /// itself, so the object keeps its size, ETag and metadata. The bytes must lie in the object's
    /// head, the RADOS object "&lt;bucket marker&gt;_&lt;key&gt;" (its first 4 MiB: all of an object written in one PUT).
    /// </summary>
    public async Task OverwriteStoredBytesAsync(RgwBucket bucket, string key, int offset, byte[] bytes)
    {
        string conf = Path.Combine(_directory, "ceph.conf");
        string stats = await RunAsync("radosgw-admin", TimeSpan.FromSeconds(30), "-c", conf, "--no-mon-config", "bucket", "stats", "--bucket", bucket.Name);
        string head = JsonNode.Parse(stats)!["marker"]!.GetValue<string>() + "_" + key;
        string file = Path.Combine(_directory, "rot-" + Guid.NewGuid().ToString("N"));
        string[] rados = ["-c", conf, "--no-mon-config", "-p", "default.rgw.buckets.data"];
        await RunAsync("rados", TimeSpan.FromSeconds(30), [.. rados, "get", head, file]);
        byte[] data = await File.ReadAllBytesAsync(file);
        Assert.True(data.Length >= offset + bytes.Length, $"the head object {head} holds {data.Length} bytes, fewer than the offset asked for");
        bytes.CopyTo(data, offset);
        await File.WriteAllBytesAsync(file, data);
        await RunAsync("rados", TimeSpan.FromSeconds(30), [.. rados, "put", head, file]); // the data only: xattrs (RGW's manifest, ETag, metadata) stay
        File.Delete(file);
    }

    // The owner PID matters to "start" only: its watchdog stops the cluster once this process is gone.
    internal Task RunScriptAsync(TimeSpan timeout, params string[] args) =>
        RunAsync(Script, timeout, [.. args], ("RGW_ACCESS_KEY", AccessKey), ("RGW_SECRET_KEY", SecretKey), ("RGW_OWNER_PID", Environment.ProcessId.ToString()));

    static Task<string> RunAsync(string tool, TimeSpan timeout, params string[] args) => RunAsync(tool, timeout, args, []);

    static async Task<string> RunAsync(string tool, TimeSpan timeout, string[] args, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds:F0} s");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed ({process.ExitCode}): {await stderr}");
        return await stdout;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_cluster.IsValueCreated)
            return;
        try
        {
            await RunScriptAsync(TimeSpan.FromMinutes(1), "stop", _directory);
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("WSD_RGW_KEEP") is null && System.IO.Directory.Exists(_directory))
                System.IO.Directory.Delete(_directory, recursive: true);
        }
    }
}

/// <summary>One test's bucket, reached through the gateway on <see cref="Port"/>, over TLS when <see cref="CaFile"/> is set.</summary>
public sealed record RgwBucket(string Name, int Port, string? CaFile = null)
{
    public string Endpoint => CaFile is null ? $"http://127.0.0.1:{Port}" : $"https://127.0.0.1:{Port}";

    /// <summary>The daemon's storage section for this bucket.</summary>
    public JsonObject StorageConfig(int partSizeMiB = 5) => new()
    {
        ["kind"] = "s3",
        ["s3"] = new JsonObject
        {
            ["endpoint"] = Endpoint,
            ["bucket"] = Name,
            ["accessKey"] = CephRgw.AccessKey,
            ["secretKey"] = CephRgw.SecretKey,
            ["partSizeMiB"] = partSizeMiB,
            ["requestTimeout"] = "20s",
            ["caFile"] = CaFile ?? "",
        },
    };

    /// <summary>The store's own configuration for this bucket, for in-process tests.</summary>
    public Wsd.Config.S3StorageConfig StoreConfig() => new()
    {
        Endpoint = Endpoint, Bucket = Name, AccessKey = CephRgw.AccessKey, SecretKey = CephRgw.SecretKey,
        PartSizeMiB = 5, ParallelParts = 2, RequestTimeout = TimeSpan.FromSeconds(20), CaFile = CaFile ?? "",
    };

    /// <summary>A plain SDK client, for looking at the bucket beside the daemon.</summary>
    public AmazonS3Client Client() => new(new BasicAWSCredentials(CephRgw.AccessKey, CephRgw.SecretKey), new AmazonS3Config
    {
        ServiceURL = Endpoint,
        HttpClientFactory = CaFile is null ? null : new Wsd.Storage.S3.PrivateCaHttpClientFactory(CaFile),
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        // Ceph 16 predates the SDK's default request checksums (trailers in aws-chunked bodies).
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    });
}

/// <summary>A radosgw of one test's own on the shared cluster: killed (SIGKILL) and restarted at will, stopped when disposed.</summary>
public sealed class RgwGateway : IAsyncDisposable
{
    readonly CephRgw _rgw;

    internal RgwGateway(CephRgw rgw, int port, string? caFile = null)
    {
        _rgw = rgw;
        Port = port;
        CaFile = caFile;
    }

    public int Port { get; }

    /// <summary>The certificate of a gateway serving HTTPS; null for HTTP.</summary>
    public string? CaFile { get; }

    /// <summary>The same bucket, reached through this gateway.</summary>
    public RgwBucket Serving(RgwBucket bucket) => bucket with { Port = Port, CaFile = CaFile };

    /// <summary>kill -9, as a crash would.</summary>
    public Task KillAsync() => _rgw.RunScriptAsync(TimeSpan.FromSeconds(30), "kill", _rgw.Directory, Port.ToString());

    /// <summary>Starts it again on the same port and waits until it serves.</summary>
    public Task RestartAsync() => _rgw.RunScriptAsync(TimeSpan.FromMinutes(1), "restart", _rgw.Directory, Port.ToString());

    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync();
        }
        catch (InvalidOperationException)
        {
            // Already killed by the test.
        }
    }
}
