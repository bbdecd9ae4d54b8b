using System.Diagnostics;
using Wsd.Interop;

namespace Wsd.Tests.Support;

/// <summary>
/// Network namespaces made by a test (each held by a <c>sleep</c> in it, gone when disposed), and
/// work inside any process's network namespace: C# sockets on a thread that joined it, or <c>ip</c>
/// through nsenter.
/// </summary>
public sealed class NetworkNamespaces : IDisposable
{
    readonly List<Process> _holders = [];

    /// <summary>A new, empty network namespace: the PID of the process holding it.</summary>
    public int Create()
    {
        Tools.RequireRoot("network namespaces");
        Tools.Require("unshare", "util-linux");
        var process = Process.Start(new ProcessStartInfo("unshare", ["--net", "sleep", "100000"]) { UseShellExecute = false })!;
        _holders.Add(process);
        while (File.ReadAllText($"/proc/{process.Id}/comm").Trim() != "sleep")
            Thread.Sleep(10);
        return process.Id;
    }

    /// <summary>Runs <paramref name="action"/> in the network namespace of <paramref name="pid"/>, on a thread of its own (setns changes only the calling thread).</summary>
    public static T In<T>(int pid, Func<T> action)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                NamespaceCalls.Join($"/proc/{pid}/ns/net", NamespaceCalls.NewNet);
                result = action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        return failure is null ? result : throw failure;
    }

    /// <summary><c>ip ARGS</c> in the network namespace of <paramref name="pid"/>; its output, or an exception with its error.</summary>
    public static string Ip(int pid, params string[] args)
    {
        Tools.Require("ip", "iproute2");
        return Tools.Ok("nsenter", "/", ["-t", pid.ToString(), "-n", "ip", .. args]);
    }

    public void Dispose()
    {
        foreach (var process in _holders)
        {
            process.Kill();
            process.WaitForExit();
            process.Dispose();
        }
    }
}
