using System.Net;
using System.Net.Sockets;

namespace Wsd.Tests.Support;

/// <summary>
/// A loopback TCP proxy in front of a server that can cut every connection once the client has
/// sent, or the server has answered, a given number of bytes: an upload or a download interrupted
/// mid-way, as a network failure or a dying server would.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly int _targetPort;
    readonly CancellationTokenSource _stop = new();
    readonly List<TcpClient> _open = [];
    long _sent;

    /// <summary>How the proxy misbehaves for new connections.</summary>
    public enum Fault { None, ServiceUnavailable, Blackhole }

    Fault _mode;

    /// <summary>Setting a fault also cuts the open connections, so pooled ones cannot slip past it.</summary>
    public Fault Mode
    {
        get => _mode;
        set
        {
            _mode = value;
            if (value != Fault.None)
                CutAll();
        }
    }

    /// <summary>Client bytes after which all connections are cut; long.MaxValue for never.</summary>
    public long CutAfterBytes { get; set; } = long.MaxValue;

    /// <summary>
    /// Server bytes after which <see cref="OnResponseBytes"/> runs once (a download cut mid-way:
    /// the test kills the server there), before they reach the client; then every connection is cut.
    /// </summary>
    public long ResponseBytesTrigger { get; set; } = long.MaxValue;

    public Func<Task>? OnResponseBytes { get; set; }

    long _received;
    int _triggered;

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public FaultProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        _ = AcceptLoop();
    }

    async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (Mode != Fault.None)
            {
                _ = Misbehave(client, Mode);
                continue;
            }
            var server = new TcpClient();
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _targetPort);
            }
            catch (SocketException)
            {
                client.Dispose();
                continue;
            }
            lock (_open)
                _open.AddRange([client, server]);
            _ = Pump(client.GetStream(), server.GetStream(), countsTowardsCut: true);
            _ = Pump(server.GetStream(), client.GetStream(), countsTowardsCut: false);
        }
    }

    async Task Pump(NetworkStream from, NetworkStream to, bool countsTowardsCut)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                if (countsTowardsCut && Interlocked.Add(ref _sent, n) > CutAfterBytes)
                {
                    CutAll();
                    return;
                }
                if (!countsTowardsCut && Interlocked.Add(ref _received, n) > ResponseBytesTrigger && Interlocked.Exchange(ref _triggered, 1) == 0)
                {
                    if (OnResponseBytes is { } action)
                        await action();
                    CutAll();
                    return;
                }
                await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
        {
        }
    }

    // A 503 for every request, or silence until the client gives up.
    async Task Misbehave(TcpClient client, Fault mode)
    {
        lock (_open)
            _open.Add(client);
        try
        {
            var stream = client.GetStream();
            var buffer = new byte[64 * 1024];
            while (await stream.ReadAsync(buffer, _stop.Token) > 0)
            {
                if (mode == Fault.ServiceUnavailable)
                {
                    await stream.WriteAsync("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), _stop.Token);
                    client.Dispose();
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
        {
        }
    }

    public void ResetCounter() => Interlocked.Exchange(ref _sent, 0);

    void CutAll()
    {
        lock (_open)
        {
            foreach (var connection in _open)
            {
                if (connection.Client is { } socket)
                    socket.LingerState = new LingerOption(true, 0); // RST, not a polite FIN
                connection.Dispose();
            }
            _open.Clear();
        }
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        CutAll();
        return ValueTask.CompletedTask;
    }
}
