using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Wsd.Workspaces;

namespace Wsd.Hosting.WorkspaceSockets;

/// <summary>
/// Listens on every workspace's unix socket and feeds the connections, tagged with their workspace,
/// to Kestrel as one endpoint (<see cref="WorkspaceSocketsEndPoint"/>). HTTP/2 cleartext, like
/// upstream's per-workspace gRPC server (docs/compatibility.md#workspace-sockets), at the cost of one
/// accept loop per socket rather than one server per workspace.
/// </summary>
public sealed class WorkspaceSocketHub : IWorkspaceSocketServer, IConnectionListenerFactory, IConnectionListenerFactorySelector, IAsyncDisposable
{
    const int Backlog = 64;
    const UnixFileMode SocketMode = (UnixFileMode)0x1FF; // 0777: the workspace user must connect (docs/compatibility.md#workspace-sockets)
    const UnixFileMode DirectoryMode = (UnixFileMode)0x1ED; // 0755: root-owned, so a workspace cannot swap the socket

    readonly Channel<ConnectionContext> _accepted = Channel.CreateUnbounded<ConnectionContext>(new() { SingleReader = true });
    readonly ConcurrentDictionary<string, OpenSocket> _sockets = new(StringComparer.Ordinal);
    readonly SocketConnectionContextFactory _connections;
    readonly ILogger<WorkspaceSocketHub> _log;
    readonly Lock _lifecycle = new();
    bool _closed;

    public WorkspaceSocketHub(ILoggerFactory loggerFactory)
    {
        _log = loggerFactory.CreateLogger<WorkspaceSocketHub>();
        _connections = new SocketConnectionContextFactory(new SocketConnectionFactoryOptions(), _log);
    }

    public bool IsServing(string instanceId) => _sockets.ContainsKey(instanceId);

    public Task StartAsync(string instanceId, string socketPath, CancellationToken cancellationToken = default)
    {
        lock (_lifecycle)
        {
            if (_closed)
                throw new InvalidOperationException("the daemon is shutting down; no new workspace sockets");
            if (_sockets.ContainsKey(instanceId))
                return Task.CompletedTask;

            var listener = Bind(socketPath);
            var open = new OpenSocket(instanceId, socketPath, listener);
            _sockets[instanceId] = open;
            open.AcceptLoop = AcceptLoop(open);
            _log.LogInformation("serving workspace {instanceId} on {socket}", instanceId, socketPath);
        }
        return Task.CompletedTask;
    }

    public async Task StopAsync(string instanceId)
    {
        if (!_sockets.TryRemove(instanceId, out var open))
            return;
        await open.CloseAsync(abortConnections: true);
        _log.LogInformation("stopped serving workspace {instanceId}", instanceId);
    }

    static Socket Bind(string socketPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(socketPath)!, DirectoryMode);
        // A socket left by an earlier daemon process would make bind fail
        // (docs/compatibility.md#workspace-sockets).
        if (Directory.Exists(socketPath))
            throw new IOException($"cannot serve workspace socket {socketPath}: a directory is in the way");
        File.Delete(socketPath);

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(socketPath));
            socket.Listen(Backlog);
            File.SetUnixFileMode(socketPath, SocketMode);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    async Task AcceptLoop(OpenSocket open)
    {
        var feature = new WorkspaceConnection(open.InstanceId, open.Path);
        while (true)
        {
            Socket client;
            try
            {
                client = await open.Listener.AcceptAsync(open.Stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (!open.Stopping.IsCancellationRequested)
                    _log.LogError(e, "workspace {instanceId}: accepting on {socket} failed; the socket is no longer served", open.InstanceId, open.Path);
                return;
            }

            var connection = _connections.Create(client);
            connection.Features.Set(feature);
            open.Track(connection);
            if (!_accepted.Writer.TryWrite(connection))
            {
                connection.Abort();
                await connection.DisposeAsync();
            }
        }
    }

    ValueTask<IConnectionListener> IConnectionListenerFactory.BindAsync(EndPoint endpoint, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IConnectionListener>(new WorkspaceSocketListener(_accepted.Reader, CloseAll));

    bool IConnectionListenerFactorySelector.CanBind(EndPoint endpoint) => endpoint is WorkspaceSocketsEndPoint;

    /// <summary>On shutdown: stop accepting everywhere and remove the socket files; Kestrel drains open connections.</summary>
    void CloseAll()
    {
        lock (_lifecycle)
        {
            if (_closed)
                return;
            _closed = true;
        }
        _accepted.Writer.TryComplete();
        foreach (var id in _sockets.Keys)
        {
            if (_sockets.TryRemove(id, out var open))
                _ = open.CloseAsync(abortConnections: false);
        }
    }

    public ValueTask DisposeAsync()
    {
        CloseAll();
        return ValueTask.CompletedTask;
    }

    sealed class OpenSocket(string instanceId, string path, Socket listener)
    {
        readonly ConcurrentDictionary<string, ConnectionContext> _connections = new();

        public string InstanceId { get; } = instanceId;
        public string Path { get; } = path;
        public Socket Listener { get; } = listener;
        public CancellationTokenSource Stopping { get; } = new();
        public Task AcceptLoop { get; set; } = Task.CompletedTask;

        public void Track(ConnectionContext connection)
        {
            _connections[connection.ConnectionId] = connection;
            connection.ConnectionClosed.Register(() => _connections.TryRemove(connection.ConnectionId, out _));
        }

        public async Task CloseAsync(bool abortConnections)
        {
            Stopping.Cancel();
            Listener.Dispose();
            await AcceptLoop;
            try
            {
                File.Delete(Path);
            }
            catch (IOException)
            {
                // The service directory may already be gone with the workspace.
            }
            if (abortConnections)
            {
                foreach (var connection in _connections.Values)
                    connection.Abort(new ConnectionAbortedException("the workspace socket was closed"));
            }
        }
    }
}
