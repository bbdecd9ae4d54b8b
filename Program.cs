using Grpc.HealthCheck;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Wsd.Cli;
using Wsd.Config;
using Wsd.Hosting;
using Wsd.Hosting.WorkspaceSockets;
using Wsd.Observability;
using Wsd.Observability.Metrics;
using Wsd.Services;
using Wsd.Services.Interceptors;
using Wsd.Workspaces;

namespace Wsd;

/// <summary>The composition root: command dispatch, and the daemon wired together in one place.</summary>
public static class Program
{
    public static Task<int> Main(string[] args) => CommandLine.RunAsync(args);

    /// <summary>Builds the daemon for <paramref name="config"/>; listeners are bound when it is started.</summary>
    public static WebApplication BuildDaemon(WsdConfig config, bool verbose)
    {
        ListenAddress.TryParse(config.Service.Address, out var serviceEndPoint, out _);
        ListenAddress.TryParse(config.Health.Address, out var healthEndPoint, out _);

        // What can keep the daemon from starting is done here, before any of its services runs, so
        // that a daemon that cannot start says why in one line (CommandLine) and nothing else.
        var area = new WorkingArea(config.Content.WorkingArea);
        CreateDirectory("content.workingArea", area.Root, area.Create);
        if (config.Content.Storage.Kind == "local")
            CreateDirectory("content.storage.local.root", config.Content.Storage.Local.Root, () => Directory.CreateDirectory(config.Content.Storage.Local.Root));
        var tls = config.Service.Tls is { } tlsConfig ? TlsOptions.Create(tlsConfig) : null;
        var fsShift = Workspaces.InWorkspace.FsShiftChoice.Decide(FsShiftModes.Parse(config.Runtime.FsShift),
            Linux.KernelFilesystems.Has(config.Runtime.Proc, "shiftfs"));
        var prebound = new PreboundSockets();
        try
        {
            prebound.Bind("service.address", serviceEndPoint);
            prebound.Bind("health.address", healthEndPoint);
        }
        catch
        {
            prebound.Dispose();
            throw;
        }

        // The empty builder reads no appsettings files and starts no file watcher: the default
        // host's reload watcher walks the working directory at start, which from "/" costs seconds
        // (platform notes §2).
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = "wsd",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel => Listeners.Configure(kestrel, tls, serviceEndPoint, healthEndPoint));
        builder.Services.AddSingleton(prebound);
        builder.Services.Configure<SocketTransportOptions>(o => o.CreateBoundListenSocket = prebound.Take);
        builder.Services.AddRoutingCore();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = config.Service.ShutdownGracePeriod);
        JsonLogging.Configure(builder.Logging, config.Log.Level, verbose);

        var diskGuard = new DiskGuard(area, config.Content.MinFreeBytes);
        var metrics = new MetricRegistry();
        DaemonMetrics.Register(metrics, diskGuard.FreeBytesOrNaN, config.Content.MinFreeBytes);

        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(area);
        builder.Services.AddSingleton(metrics);
        builder.Services.AddSingleton<GrpcMetrics>();
        builder.Services.AddSingleton<Readiness>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SessionStore>();
        builder.Services.AddSingleton<WorkspaceQuotas>();
        builder.Services.AddSingleton(diskGuard);
        builder.Services.AddHostedService<WorkspaceHousekeeping>();
        builder.Services.AddSingleton<WorkspaceSocketHub>();
        builder.Services.AddSingleton<IWorkspaceSocketServer>(s => s.GetRequiredService<WorkspaceSocketHub>());
        builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IConnectionListenerFactory>(s => s.GetRequiredService<WorkspaceSocketHub>());
        builder.Services.AddSingleton<HealthServiceImpl>();

        // Content: workspace user, storage, git, archives.
        var user = WorkspaceUser.Gitpod;
        builder.Services.AddSingleton(user);
        builder.Services.AddSingleton(config.Runtime);
        builder.Services.AddSingleton<Storage.IObjectStore>(config.Content.Storage.Kind == "s3"
            ? new Storage.S3.S3ObjectStore(config.Content.Storage.S3)
            : new Storage.LocalObjectStore(config.Content.Storage.Local.Root, config.Content.Storage.Local.Bucket));
        builder.Services.AddSingleton(new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromMinutes(10) });
        var git = new Content.Git.GitRunner(new Linux.Sandbox.SandboxLauncher(Environment.ProcessPath ?? "/proc/self/exe", user.Uid, user.Gid),
            config.Content.Git.CommandTimeout);
        builder.Services.AddSingleton(git);
        builder.Services.AddSingleton<Content.Git.GitCheckout>();
        builder.Services.AddSingleton(new Content.Git.GitStatusReader(git, config.Content.Git.StatusTimeout));
        builder.Services.AddSingleton<Content.ContentInitializer>();
        builder.Services.AddSingleton<Content.LogUploader>();
        builder.Services.AddSingleton<ContentMetrics>();
        builder.Services.AddSingleton<Content.ContentProgress>();
        builder.Services.AddSingleton<IProgressReport>(s => s.GetRequiredService<Content.ContentProgress>());
        builder.Services.AddSingleton(s => new Content.BackupLimiter(config.Content.Backup.MaxConcurrent, config.Content.Backup.MaxWait, s.GetRequiredService<ContentMetrics>()));
        builder.Services.AddSingleton(s => new Content.ArchiveUploader(user.Uids, user.Gids, s.GetRequiredService<Content.BackupLimiter>(),
            s.GetRequiredService<ContentMetrics>(), s.GetRequiredService<ILogger<Content.ArchiveUploader>>()));
        builder.Services.AddSingleton(new InitDeadline(config.Content.InitTimeout));
        builder.Services.AddSingleton<WorkspaceLifecycle>();

        // In-workspace service: the container runtime and what the workspace socket may ask of it.
        var proc = new Linux.ProcFs(config.Runtime.Proc);
        var cgroups = new Linux.CgroupV2(config.Runtime.CgroupRoot);
        if (config.Runtime.Kind == "containerd")
        {
            builder.Services.AddSingleton(s => new Runtime.Containerd.ContainerdRuntime(config.Runtime.Containerd, proc,
                s.GetRequiredService<ILogger<Runtime.Containerd.ContainerdRuntime>>()));
            builder.Services.AddSingleton<Runtime.IContainerRuntime>(s => s.GetRequiredService<Runtime.Containerd.ContainerdRuntime>());
            builder.Services.AddHostedService(s => s.GetRequiredService<Runtime.Containerd.ContainerdRuntime>());
        }
        else
        {
            builder.Services.AddSingleton<Runtime.IContainerRuntime>(new Runtime.ProcessContainerRuntime(config.Runtime.Process.PidDirectory, config.Runtime.Process.CgroupPattern, cgroups, proc));
        }
        builder.Services.AddSingleton(s => new Workspaces.InWorkspace.WorkspaceContainers(s.GetRequiredService<Runtime.IContainerRuntime>(), proc));
        builder.Services.AddSingleton(new Workspaces.InWorkspace.IdMappingRules(config.Runtime.RootRange, config.Runtime.UserRanges));
        builder.Services.AddSingleton(s => new Workspaces.InWorkspace.CgroupDelegation(cgroups, config.Runtime.RootRange.Start,
            s.GetRequiredService<ILogger<Workspaces.InWorkspace.CgroupDelegation>>()));
        builder.Services.AddSingleton(new Workspaces.InWorkspace.ResourceUsage(cgroups, config.Runtime.Proc));
        builder.Services.AddSingleton(new Linux.NamespaceHelper(Environment.ProcessPath ?? "/proc/self/exe"));
        builder.Services.AddSingleton(fsShift);
        builder.Services.AddSingleton<Workspaces.InWorkspace.InWorkspaceOperations>();
        builder.Services.AddSingleton<Workspaces.InWorkspace.WorkspaceNetwork>();
        builder.Services.AddSingleton<WorkspaceLimitsInterceptor>();

        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = config.Service.MaxReceiveMessageBytes;
            grpc.Interceptors.Add<CallMetricsInterceptor>();
            grpc.Interceptors.Add<ErrorMappingInterceptor>();
            grpc.Interceptors.Add<ListenerGuardInterceptor>();
            grpc.Interceptors.Add<WorkspaceLimitsInterceptor>();
        });

        var app = builder.Build();

        app.MapGrpcService<WorkspaceContentService>();
        app.MapGrpcService<InWorkspaceService>();
        app.MapGrpcService<Services.WorkspaceInfoService>();
        app.MapGrpcService<HealthServiceImpl>();
        HealthEndpoints.Map(app, healthEndPoint.Port);

        app.Services.GetRequiredService<ContentMetrics>(); // its families are on /metrics from the start
        var health = app.Services.GetRequiredService<HealthServiceImpl>();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("wsd");
        bool started = false;
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            started = true;
            SetServing(health, Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving);
            log.Log(fsShift.Usable ? LogLevel.Information : LogLevel.Warning, "runtime.fsShift {mode}: {method} ({reason})",
                fsShift.ModeName, fsShift.MethodName, fsShift.Reason);
            log.LogInformation("wsd {version} serving the content API on {service} ({tls}), health and metrics on {health}, working area {area}",
                BuildInfo.Version, serviceEndPoint, config.Service.Tls is null ? "plaintext" : "TLS", healthEndPoint, area.Root);
        });
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            // A start that failed stops too; it has nothing to shut down and says so in its one line.
            if (!started)
                return;
            SetServing(health, Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.NotServing);
            log.LogInformation("shutting down: no new calls; running calls have {grace} to finish", Duration.Format(config.Service.ShutdownGracePeriod));
        });

        return app;
    }

    static void CreateDirectory(string key, string path, Action create)
    {
        try
        {
            create();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{key}: cannot create '{path}': {e.Message}", e);
        }
    }

    static void SetServing(HealthServiceImpl health, Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus status)
    {
        health.SetStatus("", status);
        health.SetStatus("wsdaemon.WorkspaceContentService", status);
    }
}
