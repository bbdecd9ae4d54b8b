using Grpc.Core;
using Grpc.Health.V1;
using Wsd.Api.Iws;
using Wsd.Api.WsDaemon;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>The AOT binary, started and stopped as an operator would, called over real TCP.</summary>
public class DaemonProcessTests
{
    [Fact]
    public async Task ServesHealthAnswersIsWorkspaceExistsAndExitsZeroOnSigterm()
    {
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        using var channel = daemon.Channel();

        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        var contentHealth = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest { Service = "wsdaemon.WorkspaceContentService" });
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, contentHealth.Status);

        var client = new WorkspaceContentService.WorkspaceContentServiceClient(channel);
        var reply = await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "3f1c6a9e-0000-4000-8000-000000000001" });
        Assert.False(reply.Exists);

        Assert.Equal(0, await daemon.TerminateAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("shutting down", daemon.Output);
    }

    [Fact]
    public async Task OnSigtermHealthWatchersSeeNotServingAndTheProcessStillExitsZero()
    {
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        using var channel = daemon.Channel();
        using var watch = new Health.HealthClient(channel).Watch(new HealthCheckRequest { Service = "wsdaemon.WorkspaceContentService" });
        Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, watch.ResponseStream.Current.Status);

        var exit = daemon.TerminateAsync(TimeSpan.FromSeconds(20));

        // The open stream is a call in flight: it is told, and it does not keep the daemon alive
        // past the grace period (5 s in the test configuration).
        Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, watch.ResponseStream.Current.Status);
        Assert.Equal(0, await exit);
    }

    [Fact]
    public async Task CallsInFlightAtSigtermFinishWithinTheGracePeriod()
    {
        using var dir = new TempDirectory();
        await using var http = await TestHttpServer.StartAsync();
        byte[] file = "slow but finite"u8.ToArray();
        var requested = new TaskCompletionSource();
        http.Map("/slow", async context =>
        {
            requested.TrySetResult();
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            await context.Response.Body.WriteAsync(file);
        });
        await using var daemon = await DaemonProcess.StartAsync(dir); // grace period 5 s
        var client = daemon.Content;
        var init = client.InitWorkspaceAsync(new InitWorkspaceRequest
        {
            Id = "ws-1",
            Metadata = new WorkspaceMetadata { Owner = "u", MetaId = "m" },
            Initializer = new Api.ContentService.WorkspaceInitializer
            {
                Download = new Api.ContentService.FileDownloadInitializer
                {
                    Files =
                    {
                        new Api.ContentService.FileDownloadInitializer.Types.FileInfo
                        {
                            Url = $"{http.BaseUrl}/slow", FilePath = "f",
                            Digest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(file)),
                        },
                    },
                },
            },
        }).ResponseAsync;
        await requested.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var wait = client.WaitForInitAsync(new WaitForInitRequest { Id = "ws-1" }).ResponseAsync;

        var exit = daemon.TerminateAsync(TimeSpan.FromSeconds(20));

        await init; // both calls were running when SIGTERM came, and both complete
        await wait;
        Assert.Equal(0, await exit);
        Assert.Equal("slow but finite", File.ReadAllText(dir.Combine("workspaces", "ws-1", "f")));
    }

    [Fact]
    public async Task BadIdsAreInvalidArgumentWithTheUpstreamText()
    {
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;

        var empty = await Assert.ThrowsAsync<RpcException>(async () => await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest()));
        Assert.Equal(StatusCode.InvalidArgument, empty.StatusCode);
        Assert.Equal("ID is required", empty.Status.Detail);

        var escape = await Assert.ThrowsAsync<RpcException>(async () => await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "../etc" }));
        Assert.Equal(StatusCode.InvalidArgument, escape.StatusCode);
        Assert.Contains("only letters, digits", escape.Status.Detail);
    }

    static void WriteSessionFile(TempDirectory dir, string id, string state)
    {
        Directory.CreateDirectory(dir.Combine("workspaces"));
        File.WriteAllText(dir.Combine("workspaces", $"{id}.workspace.json"), $$"""
            {"location":"","checkoutLocation":"","createdAt":"2026-11-27T12:00:00Z","owner":"u1","metaID":"m1",
             "workspaceID":"{{id}}","serviceLocNode":"","serviceLocDaemon":"","xfsProjectID":0,"state":"{{state}}"}
            """);
    }

    [Fact]
    public async Task SessionsLeftByAnEarlierProcessAreBackAfterARestart()
    {
        using var dir = new TempDirectory();
        WriteSessionFile(dir, "ws-ready", "ready");
        WriteSessionFile(dir, "ws-init", "initializing");
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;

        Assert.True((await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "ws-ready" })).Exists);
        await client.WaitForInitAsync(new WaitForInitRequest { Id = "ws-ready" }, deadline: DateTime.UtcNow.AddSeconds(10));
        // The ready workspace has its socket again.
        Assert.True(File.Exists(dir.Combine("workspaces", "ws-ready-daemon", "daemon.sock")));

        // An init that died with the old process fails its waiters instead of hanging them.
        var failed = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.WaitForInitAsync(new WaitForInitRequest { Id = "ws-init" }, deadline: DateTime.UtcNow.AddSeconds(10)));
        Assert.Equal(StatusCode.FailedPrecondition, failed.StatusCode);
        Assert.Contains("interrupted by a daemon restart", failed.Status.Detail);

        var unknown = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.WaitForInitAsync(new WaitForInitRequest { Id = "ws-nope" }));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("cannot find workspace ws-nope during WaitForInit", unknown.Status.Detail);
    }

    [Fact]
    public async Task UnknownWorkspacesAreNotFoundInUpstreamWords()
    {
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        var client = daemon.Content;

        var e = await Assert.ThrowsAsync<RpcException>(async () => await client.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = "x" }));

        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Equal("cannot find workspace x during BackupWorkspace", e.Status.Detail);
    }

    [Fact]
    public async Task InWorkspaceServiceIsNotReachableOverTcp()
    {
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        using var channel = daemon.Channel();

        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await new InWorkspaceService.InWorkspaceServiceClient(channel).PrepareForUserNSAsync(new PrepareForUserNSRequest()));

        Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
        Assert.Contains("only on a workspace's daemon.sock", e.Status.Detail);
    }

    [Fact]
    public async Task MetricsCountCallsByMethodAndCode()
    {
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        using (var channel = daemon.Channel())
        {
            var client = new WorkspaceContentService.WorkspaceContentServiceClient(channel);
            await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "a" });
            await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = "b" });
            await Assert.ThrowsAsync<RpcException>(async () => await client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest()));
        }
        using var http = new HttpClient();

        string metrics = await http.GetStringAsync(daemon.HealthUri("/metrics"));

        Assert.Contains("grpc_server_handled_total{grpc_type=\"unary\",grpc_service=\"wsdaemon.WorkspaceContentService\",grpc_method=\"IsWorkspaceExists\",grpc_code=\"OK\"} 2", metrics);
        Assert.Contains("grpc_server_handled_total{grpc_type=\"unary\",grpc_service=\"wsdaemon.WorkspaceContentService\",grpc_method=\"IsWorkspaceExists\",grpc_code=\"InvalidArgument\"} 1", metrics);
        Assert.Contains("wsd_grpc_handled_total{method=\"wsdaemon.WorkspaceContentService/IsWorkspaceExists\",code=\"OK\"} 2", metrics);
        Assert.Contains("wsd_grpc_handling_seconds_count{method=\"wsdaemon.WorkspaceContentService/IsWorkspaceExists\",code=\"InvalidArgument\"} 1", metrics);
        Assert.Contains("grpc_server_started_total{grpc_type=\"unary\",grpc_service=\"wsdaemon.WorkspaceContentService\",grpc_method=\"IsWorkspaceExists\"} 3", metrics);
        Assert.Contains("wsd_build_info{version=", metrics);
        Assert.Contains("process_resident_memory_bytes ", metrics);
    }

    [Fact]
    public async Task ProbesAnswerOnlyOnTheHealthListener()
    {
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        using var http = new HttpClient();

        Assert.Equal("ok\n", await http.GetStringAsync(daemon.HealthUri("/live")));
        string ready = await http.GetStringAsync(daemon.HealthUri("/ready"));
        Assert.Contains("working-area: ok", ready);

        // The content API speaks HTTP/2 only; /metrics there is not found.
        using var h2 = new HttpClient { DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await h2.GetAsync($"http://127.0.0.1:{daemon.ServicePort}/metrics");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task LogsAreOneJsonObjectPerLine()
    {
        using var dir = new TempDirectory();
        await using var daemon = await DaemonProcess.StartAsync(dir);
        await daemon.TerminateAsync(TimeSpan.FromSeconds(10));

        var lines = daemon.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        foreach (var line in lines)
        {
            using var json = System.Text.Json.JsonDocument.Parse(line);
            Assert.True(json.RootElement.TryGetProperty("LogLevel", out _), line);
        }
    }

    [Theory]
    [InlineData("service")]
    [InlineData("health")]
    public async Task AnAddressInUseIsOneClearLineAndExitCodeOneWithNothingElse(string listener)
    {
        using var dir = new TempDirectory();
        using var blocker = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        blocker.Start();
        int busyPort = ((System.Net.IPEndPoint)blocker.LocalEndpoint).Port;

        await using var daemon = await DaemonProcess.StartAsync(dir,
            config => config[listener]!["address"] = $"127.0.0.1:{busyPort}", waitReady: false);
        await daemon.WaitForExitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(1, daemon.ExitCode);
        Assert.Equal($"stderr: wsd: cannot serve: {listener}.address 127.0.0.1:{busyPort}: Address already in use", daemon.Output);
        AssertNoCrashReport(daemon.Output);
    }

    /// <summary>What a daemon that could not start must not print: the host's reports of services it tore down.</summary>
    internal static void AssertNoCrashReport(string output)
    {
        // Log levels as the JSON and the plain console formatters write them ("critical" may be named by a config problem).
        Assert.DoesNotContain("Critical", output, StringComparison.Ordinal);
        Assert.DoesNotContain("crit:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", output, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("BackgroundService", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal); // a stack frame, printed or inside a JSON log line
    }
}
