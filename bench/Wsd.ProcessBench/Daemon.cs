using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Wsd.ProcessBench;

/// <summary>One build of the daemon to measure: how to start it and what it ships.</summary>
sealed record Daemon(string Name, string FileName, string[] PrefixArgs, string ShippedPath)
{
    public static Daemon Aot(string root) => new("AOT", Path.Combine(root, "out", "wsd"), [], Path.Combine(root, "out", "wsd"));

    public static Daemon Jit(string root) =>
        new("JIT", "dotnet", [Path.Combine(root, "out", "jit", "wsd.dll")], Path.Combine(root, "out", "jit"));

    /// <summary>Bytes on disk: the one file for AOT, the published directory for JIT (which also needs the shared runtime).</summary>
    public long ShippedBytes() => File.Exists(ShippedPath)
        ? new FileInfo(ShippedPath).Length
        : Directory.EnumerateFiles(ShippedPath, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".dbg") && !f.EndsWith(".pdb"))
            .Sum(f => new FileInfo(f).Length);

    public Process Start(string workingDirectory, string configPath)
    {
        var start = new ProcessStartInfo(FileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in PrefixArgs)
            start.ArgumentList.Add(arg);
        foreach (var arg in new[] { "run", "--config", configPath })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>
    /// Writes a config for a daemon in <paramref name="dir"/> whose workspace containers the
    /// process provider finds through pid files in <paramref name="pidDirectory"/>; answers its path
    /// and its service port.
    /// </summary>
    public static (string Path, int Port) ProcessRuntimeConfig(string dir, string pidDirectory, string? cgroupRoot = null)
    {
        int port = FreePort();
        string config = System.IO.Path.Combine(dir, "wsd.json");
        string cgroup = cgroupRoot is null ? "" : $$""", "cgroupRoot": "{{cgroupRoot}}" """;
        File.WriteAllText(config, $$"""
            { "service": { "address": "127.0.0.1:{{port}}" }, "health": { "address": "127.0.0.1:{{FreePort()}}" },
              "log": { "level": "warning" },
              "content": { "workingArea": "{{dir}}/area", "minFreeBytes": 0, "storage": { "kind": "local", "local": { "root": "{{dir}}/storage" } } },
              "runtime": { "process": { "pidDirectory": "{{pidDirectory}}" }{{cgroup}} } }
            """);
        return (config, port);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Resident set size in bytes from /proc/PID/status.</summary>
    public static long RssBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:"))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        return -1;
    }
}
