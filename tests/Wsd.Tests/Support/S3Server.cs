using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Wsd.Tests.Support;

/// <summary>
/// s3rver (npm, installed into .tools/ by ./build.sh deps) on a loopback port with one bucket: a
/// real S3-compatible server for the storage tests. It checks no signatures (docs/platform.md#s3rver-in-tests).
/// </summary>
public sealed class S3Server : IAsyncDisposable
{
    public const string Bucket = "wsd-test";
    public const string Key = "S3RVER";

    readonly Process _process;

    S3Server(Process process, int port, string directory)
    {
        _process = process;
        Port = port;
        Directory = directory;
    }

    public int Port { get; }
    public string Directory { get; }
    public string Endpoint => $"http://127.0.0.1:{Port}";

    public static string Binary => Path.Combine(RepositoryPaths.Root, ".tools", "node_modules", ".bin", "s3rver");

    public static async Task<S3Server> StartAsync(string directory)
    {
        Assert.SkipUnless(File.Exists(Binary), $"{Binary} is missing: ./build.sh deps installs s3rver 3.7.1 from npm");
        System.IO.Directory.CreateDirectory(directory);
        int port = FreePort.Next();
        var start = new ProcessStartInfo(Binary, ["-d", directory, "-a", "127.0.0.1", "-p", port.ToString(), "--silent", "--configure-bucket", Bucket])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                break;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(50);
            }
        }
        return new S3Server(process, port, directory);
    }

    /// <summary>The daemon's storage section for this server.</summary>
    public JsonObject StorageConfig(int partSizeMiB = 5) => new()
    {
        ["kind"] = "s3",
        ["s3"] = new JsonObject
        {
            ["endpoint"] = Endpoint,
            ["bucket"] = Bucket,
            ["accessKey"] = Key,
            ["secretKey"] = Key,
            ["partSizeMiB"] = partSizeMiB,
            ["requestTimeout"] = "20s",
        },
    };

    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }
}
