using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Grpc.Net.Client;

namespace Wsd.Tests.Support;

/// <summary>
/// The published AOT binary, started as an operator would (`wsd run --config FILE`) in a directory
/// of its own, on free loopback ports.
/// </summary>
public sealed partial class DaemonProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly ConcurrentQueue<string> _output = new();

    DaemonProcess(Process process, int servicePort, int healthPort, string configPath)
    {
        _process = process;
        ServicePort = servicePort;
        HealthPort = healthPort;
        ConfigPath = configPath;
    }

    public int ServicePort { get; }
    public int HealthPort { get; }
    public string ConfigPath { get; }
    public int Pid => _process.Id;

    /// <summary>The daemon's peak resident memory so far (VmHWM), in bytes.</summary>
    public long PeakRssBytes => long.Parse(File.ReadAllLines($"/proc/{Pid}/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
        .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    public bool HasExited => _process.HasExited;
    public string Output => string.Join('\n', _output);

    public Uri HealthUri(string path) => new($"http://127.0.0.1:{HealthPort}{path}");

    /// <summary>A plaintext channel to the content API.</summary>
    public GrpcChannel Channel() => GrpcChannel.ForAddress($"http://127.0.0.1:{ServicePort}");

    GrpcChannel? _contentChannel;

    /// <summary>A content API client on a channel this daemon owns and closes.</summary>
    public Api.WsDaemon.WorkspaceContentService.WorkspaceContentServiceClient Content => new(_contentChannel ??= Channel());

    /// <summary>The default test configuration: everything under <paramref name="dir"/>, free ports.</summary>
    public static JsonObject DefaultConfig(TempDirectory dir, out int servicePort, out int healthPort)
    {
        servicePort = FreePort.Next();
        healthPort = FreePort.Next();
        return new JsonObject
        {
            ["service"] = new JsonObject { ["address"] = $"127.0.0.1:{servicePort}", ["shutdownGracePeriod"] = "5s" },
            ["health"] = new JsonObject { ["address"] = $"127.0.0.1:{healthPort}" },
            ["content"] = new JsonObject
            {
                ["workingArea"] = dir.Combine("workspaces"),
                ["storage"] = new JsonObject { ["kind"] = "local", ["local"] = new JsonObject { ["root"] = dir.Combine("storage") } },
            },
        };
    }

    /// <summary>
    /// Starts the daemon with <paramref name="config"/> (or the default) and waits until /ready says 200;
    /// <paramref name="environment"/> is added to the test process's own.
    /// </summary>
    public static async Task<DaemonProcess> StartAsync(TempDirectory dir, Action<JsonObject>? configure = null, bool waitReady = true,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var config = DefaultConfig(dir, out int servicePort, out int healthPort);
        configure?.Invoke(config);
        // Ports may have been replaced by configure.
        servicePort = PortOf(config["service"]!["address"]!.GetValue<string>());
        healthPort = PortOf(config["health"]!["address"]!.GetValue<string>());
        string configPath = dir.Combine("wsd.json");
        await File.WriteAllTextAsync(configPath, config.ToJsonString());

        var start = new ProcessStartInfo(RepositoryPaths.DaemonBinary)
        {
            WorkingDirectory = dir.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("run");
        start.ArgumentList.Add("--config");
        start.ArgumentList.Add(configPath);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        return await LaunchAsync(start, servicePort, healthPort, configPath, waitReady);
    }

    /// <summary>Starts a daemon the way <paramref name="start"/> says (e.g. inside a chroot) and waits until /ready says 200.</summary>
    public static async Task<DaemonProcess> LaunchAsync(ProcessStartInfo start, int servicePort, int healthPort, string configPath, bool waitReady = true)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var process = Process.Start(start)!;
        var daemon = new DaemonProcess(process, servicePort, healthPort, configPath);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) daemon._output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) daemon._output.Enqueue("stderr: " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (waitReady)
            await daemon.WaitReadyAsync(TimeSpan.FromSeconds(30));
        return daemon;
    }

    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"wsd exited with {_process.ExitCode} before it was ready:\n{Output}");
            try
            {
                using var response = await http.GetAsync(HealthUri("/ready"));
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(20);
        }
        throw new TimeoutException($"wsd was not ready within {timeout}:\n{Output}");
    }

    /// <summary>Sends SIGTERM and waits for the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (Kill(_process.Id, SigTerm) != 0)
            throw new InvalidOperationException($"kill(SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>Stops this daemon with SIGTERM and starts another on the same configuration file and ports.</summary>
    public async Task<DaemonProcess> RestartAsync()
    {
        var start = _process.StartInfo;
        Assert.Equal(0, await TerminateAsync(TimeSpan.FromSeconds(30)));
        await DisposeAsync();
        var again = new ProcessStartInfo(start.FileName) { WorkingDirectory = start.WorkingDirectory };
        foreach (var arg in start.ArgumentList)
            again.ArgumentList.Add(arg);
        return await LaunchAsync(again, ServicePort, HealthPort, ConfigPath);
    }

    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        _contentChannel?.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    static int PortOf(string address) => int.Parse(address[(address.LastIndexOf(':') + 1)..]);

    const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
