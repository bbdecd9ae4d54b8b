using System.Text.Json;
using Grpc.Core;
using Wsd.Config;
using Wsd.Errors;
using Wsd.Linux;
using Wsd.Runtime.Containerd.Api;

namespace Wsd.Runtime.Containerd;

/// <summary>
/// The <c>containerd</c> provider (docs/compatibility.md#finding-the-workspace-container): follows
/// containerd's event stream for the configured namespace and keeps an index of workspace pods and their
/// workspace containers' tasks, listed afresh whenever the stream (re)connects. A call for a workspace
/// whose container containerd has not reported yet waits for it (it may be starting) up to
/// <c>waitForContainer</c>; a container that exited is an answer at once. While containerd is
/// unreachable, containers already known and still running are served (a containerd restart leaves its
/// tasks running); anything else is UNAVAILABLE naming the socket, never a hang.
/// </summary>
public sealed class ContainerdRuntime : BackgroundService, IContainerRuntime
{
    static readonly TimeSpan CallLimit = TimeSpan.FromSeconds(10), MaxBackoff = TimeSpan.FromSeconds(5);

    readonly ContainerdRuntimeConfig _config;
    readonly ProcFs _proc;
    readonly ILogger<ContainerdRuntime> _log;
    readonly Grpc.Net.Client.GrpcChannel _channel;
    readonly Metadata _namespace;
    readonly ContainerIndex _index;
    readonly object _lock = new();
    TaskCompletionSource _changed = NewSignal();
    TaskCompletionSource _resync = NewSignal();
    // null while connected; otherwise why not (and "connecting" before the first attempt ends).
    string? _unreachable = "connecting";
    bool _triedOnce;

    public ContainerdRuntime(ContainerdRuntimeConfig config, ProcFs proc, ILogger<ContainerdRuntime> log)
    {
        _config = config;
        _proc = proc;
        _log = log;
        _channel = UnixSocketChannel.Create(config.Socket);
        _namespace = new Metadata { { "containerd-namespace", config.Namespace } };
        _index = new ContainerIndex(config.PodNamespace);
    }

    public async ValueTask<(WorkspaceContainer? Container, string WhyNot)> FindAsync(string instanceId, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + _config.WaitForContainer;
        bool askedForResync = false;
        while (true)
        {
            ContainerIndex.Lookup found;
            Task changed;
            string? unreachable;
            bool triedOnce;
            lock (_lock)
            {
                found = _index.Find(instanceId);
                changed = _changed.Task;
                unreachable = _unreachable;
                triedOnce = _triedOnce;
            }
            if (found.Outcome == ContainerIndex.Outcome.Running)
                return Verify(instanceId, found.Container!, found.Task!);
            if (unreachable is not null && triedOnce)
                throw new WsdException(ErrorCode.Unavailable,
                    $"cannot look up the container of workspace {instanceId}: containerd at {_config.Socket} is not reachable ({unreachable}); wsd reconnects on its own");
            if (found.Outcome == ContainerIndex.Outcome.Exited)
                return (null, found.WhyNot);
            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
                return (null, $"{found.WhyNot} (waited {_config.WaitForContainer.TotalSeconds:0.#} s)");
            // An event may have been missed (one between the listing and the subscription taking
            // effect): list again once, then wait for events. Before the first listing there is
            // nothing to repeat.
            if (!askedForResync)
            {
                askedForResync = true;
                if (triedOnce)
                {
                    lock (_lock)
                        _resync.TrySetResult();
                }
            }
            try
            {
                await changed.WaitAsync(remaining, cancellationToken);
            }
            catch (TimeoutException)
            {
            }
        }
    }

    // containerd named the task's PID; it must still be a live process inside a PID namespace of
    // its own, so that PIDs from the workspace are never looked up among the node's.
    (WorkspaceContainer?, string) Verify(string instanceId, ContainerIndex.Container container, ContainerIndex.TaskState task)
    {
        int pid = (int)task.Pid;
        var nsPids = _proc.NsPids(pid);
        if (nsPids is null)
            return (null, $"the workspace container {container.Id} of workspace {instanceId} has exited (its task PID {pid} is gone)");
        if (nsPids.Length < 2)
            return (null, $"the workspace container {container.Id} of workspace {instanceId} shares the node's PID namespace; wsd serves only containers with their own");
        return (new WorkspaceContainer(instanceId, pid, nsPids.Length - 1, container.CgroupPath), "");
    }

    // The spec's root.path: relative (a snapshot mounted into the task's bundle, "rootfs" for the
    // CRI plugin, docs/compatibility.md#finding-the-workspace-container) or absolute (a root file system
    // given as a directory).
    string RootfsOf(ContainerIndex.Container container) =>
        Path.Combine(_config.State, "io.containerd.runtime.v2.task", _config.Namespace, container.Id, container.Root);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var events = new Events.EventsClient(_channel);
                using var call = events.Subscribe(new SubscribeRequest { Filters = { $"namespace==\"{_config.Namespace}\"" } }, _namespace, cancellationToken: stoppingToken);
                await ResyncAsync(stoppingToken);
                lock (_lock)
                {
                    if (_unreachable is not null && _triedOnce)
                        _log.LogInformation("containerd at {socket} is reachable again", _config.Socket);
                    _unreachable = null;
                    _triedOnce = true;
                    Signal();
                }
                backoff = TimeSpan.FromMilliseconds(250);
                await FollowAsync(call.ResponseStream, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is RpcException or IOException or HttpRequestException or JsonException or InvalidOperationException)
            {
                string why = e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : e.Message;
                lock (_lock)
                {
                    if (_unreachable is null || !_triedOnce)
                        _log.LogWarning("containerd at {socket} is not reachable: {problem}; retrying", _config.Socket, why);
                    _unreachable = why;
                    _triedOnce = true;
                    Signal();
                }
                try
                {
                    await Task.Delay(backoff, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    async Task FollowAsync(IAsyncStreamReader<Envelope> stream, CancellationToken stoppingToken)
    {
        var next = stream.MoveNext(stoppingToken);
        while (true)
        {
            Task resync;
            lock (_lock)
                resync = _resync.Task;
            if (await Task.WhenAny(next, resync) == resync)
            {
                lock (_lock)
                    _resync = NewSignal();
                await ResyncAsync(stoppingToken);
                continue;
            }
            if (!await next)
                throw new IOException("containerd ended the event stream");
            var envelope = stream.Current;
            if (envelope.Event is not null && (envelope.Topic.StartsWith("/containers/", StringComparison.Ordinal) || envelope.Topic.StartsWith("/tasks/", StringComparison.Ordinal)))
            {
                string id = ContainerEvent.Parser.ParseFrom(envelope.Event.Value).ContainerId;
                if (id.Length > 0)
                    await RefreshAsync(id, envelope.Topic, stoppingToken);
            }
            next = stream.MoveNext(stoppingToken);
        }
    }

    // The whole picture: the relevant containers and every task in the namespace.
    async Task ResyncAsync(CancellationToken cancellationToken)
    {
        var containers = await new Containers.ContainersClient(_channel).ListAsync(
            new ListContainersRequest { Filters = { PodLabels.ListFilters } }, _namespace, Deadline(), cancellationToken);
        var tasks = await new Tasks.TasksClient(_channel).ListAsync(new ListTasksRequest(), _namespace, Deadline(), cancellationToken);
        var described = containers.Containers.Select(Describe).ToList();
        lock (_lock)
        {
            // Tasks.List names each task by its id (the container's); container_id stays empty there.
            _index.Replace(described, tasks.Tasks.Select(t => (t.ContainerId.Length > 0 ? t.ContainerId : t.Id, StateOf(t))));
            Signal();
        }
    }

    // One container changed: ask containerd for it and its task rather than trusting the order of events.
    async Task RefreshAsync(string id, string topic, CancellationToken cancellationToken)
    {
        ContainerIndex.Container? container = null;
        ContainerIndex.TaskState? task = null;
        try
        {
            var reply = await new Containers.ContainersClient(_channel).GetAsync(new GetContainerRequest { Id = id }, _namespace, Deadline(), cancellationToken);
            container = Describe(reply.Container);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
        }
        if (container is not null && PodLabels.Relevant(container.Labels))
        {
            try
            {
                var reply = await new Tasks.TasksClient(_channel).GetAsync(new GetRequest { ContainerId = id }, _namespace, Deadline(), cancellationToken);
                task = StateOf(reply.Process);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
            }
            if (container.Labels.GetValueOrDefault(PodLabels.Kind) == "container")
                _log.LogInformation("containerd {topic}: workspace container {id} of pod {pod}: {task}", topic, id,
                    container.Labels.GetValueOrDefault(PodLabels.PodUid), task switch
                    {
                        { Running: true } => $"running, PID {task.Pid}, cgroup {container.CgroupPath}, rootfs {RootfsOf(container)}",
                        { Exited: true } => $"exited with status {task.ExitStatus}",
                        null => "no task",
                        _ => "created",
                    });
        }
        lock (_lock)
        {
            _index.Update(id, container, task);
            Signal();
        }
    }

    static ContainerIndex.TaskState StateOf(Process process) =>
        new(process.Pid, process.Status is Api.TaskStatus.Running or Api.TaskStatus.Paused or Api.TaskStatus.Pausing, process.Status == Api.TaskStatus.Stopped, process.ExitStatus);

    // The OCI spec, which containerd keeps as JSON in an Any: linux.cgroupsPath and root.path.
    static ContainerIndex.Container Describe(Container container)
    {
        string cgroupsPath = "", root = "rootfs";
        if (container.Spec is { Value.IsEmpty: false })
        {
            using var spec = JsonDocument.Parse(container.Spec.Value.Memory);
            cgroupsPath = StringAt(spec.RootElement, "linux", "cgroupsPath") ?? "";
            root = StringAt(spec.RootElement, "root", "path") ?? root;
        }
        return new(container.Id, new Dictionary<string, string>(container.Labels), CgroupsPath.Resolve(cgroupsPath), root);
    }

    static string? StringAt(JsonElement element, string outer, string inner) =>
        element.TryGetProperty(outer, out var o) && o.ValueKind == JsonValueKind.Object && o.TryGetProperty(inner, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    DateTime Deadline() => DateTime.UtcNow + CallLimit;

    // Wakes every waiting lookup; called with the lock held.
    void Signal()
    {
        _changed.TrySetResult();
        _changed = NewSignal();
    }

    static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override void Dispose()
    {
        base.Dispose();
        _channel.Dispose();
    }
}
