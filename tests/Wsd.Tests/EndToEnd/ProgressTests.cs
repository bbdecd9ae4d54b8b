using System.Diagnostics;
using Wsd.Api.ContentService;
using Wsd.Api.WsDaemon;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>
/// Long CLI commands show progress on a terminal (a pseudo-terminal from util-linux's
/// <c>script</c>) and print only their JSON line when piped; the daemon's <c>/progress</c> shows
/// running content work.
/// </summary>
public class ProgressTests(CephRgw rgw)
{
    // Runs a shell command on a pseudo-terminal; answers everything the terminal showed.
    static async Task<string> OnTerminal(string workingDirectory, string command)
    {
        Tools.Require("script", "bsdutils");
        var start = new ProcessStartInfo("script", ["-qec", command, "/dev/null"])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.Environment["WSD"] = RepositoryPaths.DaemonBinary;
        start.Environment["TERM"] = "xterm";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(cts.Token);
        return await output;
    }

    static void Tree(string root)
    {
        Directory.CreateDirectory(root);
        var data = new byte[1 << 20];
        Random.Shared.NextBytes(data);
        for (int i = 0; i < 16; i++)
            File.WriteAllBytes(Path.Combine(root, $"f{i}"), data);
    }

    [Fact]
    public async Task ArchiveShowsBytesFilesRateAndTimeOnATerminalAndOnlyItsSummaryWhenPiped()
    {
        using var dir = new TempDirectory();
        Tree(dir.Combine("src"));
        // The reader dawdles, so the archive takes over a second and the line is drawn a few times.
        const string slowReader = "(sleep 1.2; cat > /dev/null)";

        string terminal = await OnTerminal(dir.Path, $"$WSD archive create src | {slowReader}");
        var piped = Tools.Run("bash", dir.Path, "-c", $"{RepositoryPaths.DaemonBinary} archive create src 2>err.txt | {slowReader}");

        Assert.Matches(@"\rarchiving, [0-9.]+ [kMG]B, [0-9,]+ files, [0-9.]+ [kMG]B/s, 0:0[0-9]", terminal);
        Assert.Contains("\"sha256\"", terminal); // the summary still comes, on a cleared line
        Assert.Equal(0, piped.ExitCode);
        string err = File.ReadAllText(dir.Combine("err.txt"));
        Assert.DoesNotContain("\r", err);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("{", err);
    }

    [Fact]
    public async Task ClientShowsTheDaemonsProgressWhileABackupHangsAndProgressListsIt()
    {
        using var dir = new TempDirectory();
        var s3 = await rgw.NewBucketAsync();
        await using var proxy = new FaultProxy(s3.Port);
        await using var daemon = await DaemonProcess.StartAsync(dir, config =>
        {
            var storage = s3.StorageConfig();
            storage["s3"]!["endpoint"] = $"http://127.0.0.1:{proxy.Port}";
            storage["s3"]!["maxRetries"] = 1;
            storage["s3"]!["requestTimeout"] = "2s";
            config["content"]!["storage"] = storage;
        });
        await daemon.Content.InitWorkspaceAsync(new InitWorkspaceRequest
        {
            Id = "ws-p",
            Metadata = new WorkspaceMetadata { Owner = "user-1", MetaId = "meta-p" },
            Initializer = new WorkspaceInitializer { Empty = new EmptyInitializer() },
        }, cancellationToken: TestContext.Current.CancellationToken);
        Tree(dir.Combine("workspaces", "ws-p", "data"));
        proxy.Mode = FaultProxy.Fault.Blackhole; // the upload hangs until its timeouts

        using var http = new HttpClient();
        var seen = new List<string>();
        using var stop = new CancellationTokenSource();
        var polling = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                seen.Add(await http.GetStringAsync(daemon.HealthUri("/progress"), TestContext.Current.CancellationToken));
                await Task.Delay(200, TestContext.Current.CancellationToken);
            }
        }, TestContext.Current.CancellationToken);
        string terminal = await OnTerminal(dir.Path,
            $"$WSD client --address 127.0.0.1:{daemon.ServicePort} --health 127.0.0.1:{daemon.HealthPort} backup ws-p");
        stop.Cancel();
        await polling;
        seen.Add(await http.GetStringAsync(daemon.HealthUri("/progress"), TestContext.Current.CancellationToken));

        Assert.Matches(@"\rbackup ws-p, [0-9.]+ [kMG]B, [0-9,]+ files, ", terminal);
        Assert.Contains("DataLoss", terminal); // then the answer, on a line of its own
        Assert.Contains(seen, s => s.Contains("\"ws-p\":{\"operation\":\"backup\"", StringComparison.Ordinal));
        Assert.Equal("{}", seen[^1]); // gone once it ended
    }
}
