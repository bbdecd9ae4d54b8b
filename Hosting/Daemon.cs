using Grpc.HealthCheck;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Wsd.Config;
using Wsd.Hosting.WorkspaceSockets;
using Wsd.Observability;
using Wsd.Observability.Metrics;
using Wsd.Services;
using Wsd.Services.Interceptors;
using Wsd.Workspaces;

namespace Wsd.Hosting;

/// <summary>
/// The daemon's host: Kestrel on the prebound listeners, the gRPC services and their interceptors,
/// the health listener and the workspace sockets. Which implementations the services get is the
/// composition root's choice, passed in as <c>compose</c>.
/// </summary>
public static class Daemon
{
    /// <summary>Registers the domain and its machinery for one configuration, once the start-up checks have passed.</summary>
    public delegate void Composition(IServiceCollection services, WsdConfig config, StartupPreparation.Prepared start);

    /// <summary>Builds the daemon for <paramref name="config"/>; listeners are bound when it is started.</summary>
    public static WebApplication Build(WsdConfig config, bool verbose, Composition compose)
    {
        // What can keep the daemon from starting is done first, before any of its services runs,
        // so that a daemon that cannot start says why in one line and nothing else.
        var start = StartupPreparation.Prepare(config);

        // The empty builder reads no appsettings files and starts no file watcher: the default
        // host's reload watcher walks the working directory at start, which from "/" costs seconds
        // (docs/platform.md#the-reload-watcher).
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = "wsd",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel => Listeners.Configure(kestrel, start.Tls, start.ServiceEndPoint, start.HealthEndPoint));
        builder.Services.AddSingleton(start.Sockets);
        builder.Services.Configure<SocketTransportOptions>(o => o.CreateBoundListenSocket = start.Sockets.Take);
        builder.Services.AddRoutingCore();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = config.Service.ShutdownGracePeriod);
        JsonLogging.Configure(builder.Logging, config.Log.Level, verbose);

        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(start.Area);
        builder.Services.AddSingleton(start.FsShift);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<Readiness>();
        builder.Services.AddSingleton<HealthServiceImpl>();
        builder.Services.AddSingleton<WorkspaceSocketHub>();
        builder.Services.AddSingleton<IWorkspaceSocketServer>(s => s.GetRequiredService<WorkspaceSocketHub>());
        builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IConnectionListenerFactory>(s => s.GetRequiredService<WorkspaceSocketHub>());
        AddMetrics(builder.Services, start.Area, config.Content.MinFreeBytes);
        AddGrpc(builder.Services, config.Service);
        compose(builder.Services, config, start);

        var app = builder.Build();
        app.MapGrpcService<WorkspaceContentService>();
        app.MapGrpcService<InWorkspaceService>();
        app.MapGrpcService<WorkspaceInfoService>();
        app.MapGrpcService<HealthServiceImpl>();
        HealthEndpoints.Map(app, start.HealthEndPoint.Port);
        app.Services.GetRequiredService<ContentMetrics>(); // its families are on /metrics from the start
        ReportLifetime(app, config, start);
        return app;
    }

    static void AddMetrics(IServiceCollection services, WorkingArea area, long minFreeBytes)
    {
        var diskGuard = new DiskGuard(area, minFreeBytes);
        var metrics = new MetricRegistry();
        DaemonMetrics.Register(metrics, diskGuard.FreeBytesOrNaN, minFreeBytes);
        services.AddSingleton(diskGuard);
        services.AddSingleton(metrics);
        services.AddSingleton<GrpcMetrics>();
        services.AddSingleton<ContentMetrics>();
    }

    static void AddGrpc(IServiceCollection services, ServiceConfig service)
    {
        services.AddSingleton<WorkspaceLimitsInterceptor>();
        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = service.MaxReceiveMessageBytes;
            grpc.Interceptors.Add<CallMetricsInterceptor>();
            grpc.Interceptors.Add<ErrorMappingInterceptor>();
            grpc.Interceptors.Add<ListenerGuardInterceptor>();
            grpc.Interceptors.Add<WorkspaceLimitsInterceptor>();
        });
    }

    static void ReportLifetime(WebApplication app, WsdConfig config, StartupPreparation.Prepared start)
    {
        var health = app.Services.GetRequiredService<HealthServiceImpl>();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("wsd");
        bool started = false;
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            started = true;
            SetServing(health, Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving);
            var fsShift = start.FsShift;
            log.Log(fsShift.Usable ? LogLevel.Information : LogLevel.Warning, "runtime.fsShift {mode}: {method} ({reason})",
                fsShift.ModeName, fsShift.MethodName, fsShift.Reason);
            log.LogInformation("wsd {version} serving the content API on {service} ({tls}), health and metrics on {health}, working area {area}",
                BuildInfo.Version, start.ServiceEndPoint, config.Service.Tls is null ? "plaintext" : "TLS", start.HealthEndPoint, start.Area.Root);
        });
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            // A start that failed stops too; it has nothing to shut down and says so in its one line.
            if (!started)
                return;
            SetServing(health, Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.NotServing);
            log.LogInformation("shutting down: no new calls; running calls have {grace} to finish", Duration.Format(config.Service.ShutdownGracePeriod));
        });
    }

    static void SetServing(HealthServiceImpl health, Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus status)
    {
        health.SetStatus("", status);
        health.SetStatus("wsdaemon.WorkspaceContentService", status);
    }
}
