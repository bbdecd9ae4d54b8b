using Wsd.Cli;
using Wsd.Config;
using Wsd.Content;
using Wsd.Content.Git;
using Wsd.Hosting;
using Wsd.Observability;
using Wsd.Workspaces;
using Wsd.Workspaces.InWorkspace;

namespace Wsd;

/// <summary>
/// The composition root: command dispatch, and which implementation each of the daemon's parts
/// gets for a configuration. The host around them is <see cref="Daemon"/>'s.
/// </summary>
public static class Program
{
    public static Task<int> Main(string[] args) => CommandLine.RunAsync(args, BuildDaemon);

    /// <summary>Builds the daemon for <paramref name="config"/>; listeners are bound when it is started.</summary>
    public static WebApplication BuildDaemon(WsdConfig config, bool verbose) => Daemon.Build(config, verbose, Compose);

    static void Compose(IServiceCollection services, WsdConfig config, StartupPreparation.Prepared start)
    {
        var user = WorkspaceUser.Gitpod;
        services.AddSingleton(user);
        services.AddSingleton(config.Runtime);
        AddSessions(services, config);
        AddContent(services, config.Content, user);
        AddRuntime(services, config.Runtime);
    }

    static void AddSessions(IServiceCollection services, WsdConfig config)
    {
        services.AddSingleton<SessionStore>();
        services.AddSingleton<WorkspaceQuotas>();
        services.AddHostedService<WorkspaceHousekeeping>();
        services.AddSingleton(s => new InitDeadline(config.Content.InitTimeout, s.GetRequiredService<TimeProvider>()));
        services.AddSingleton<WorkspaceRemote>();
        services.AddSingleton<WorkspaceInit>();
        services.AddSingleton<WorkspaceBackups>();
        services.AddSingleton<WorkspaceDisposal>();
    }

    // Initializers, git, archives and the object store.
    static void AddContent(IServiceCollection services, ContentConfig content, WorkspaceUser user)
    {
        services.AddSingleton(Storage.ObjectStores.Open(content.Storage));
        services.AddSingleton(new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromMinutes(10) });
        var git = new GitRunner(new Linux.Sandbox.SandboxLauncher(Environment.ProcessPath ?? "/proc/self/exe", user.Uid, user.Gid),
            content.Git.CommandTimeout);
        services.AddSingleton(git);
        services.AddSingleton<GitCheckout>();
        services.AddSingleton(new GitStatusReader(git, content.Git.StatusTimeout));
        services.AddSingleton<ContentInitializer>();
        services.AddSingleton<LogUploader>();
        services.AddSingleton<ContentProgress>();
        services.AddSingleton<IProgressReport>(s => s.GetRequiredService<ContentProgress>());
        services.AddSingleton(s => new BackupLimiter(content.Backup.MaxConcurrent, content.Backup.MaxWait, s.GetRequiredService<ContentMetrics>()));
        services.AddSingleton(s => new ArchiveUploader(user.Uids, user.Gids, s.GetRequiredService<BackupLimiter>(),
            s.GetRequiredService<ContentMetrics>(), s.GetRequiredService<ILogger<ArchiveUploader>>(), content.Backup.Format, content.Backup.ChunkCompression));
    }

    // The container runtime, and what the workspace socket may ask of it.
    static void AddRuntime(IServiceCollection services, RuntimeConfig runtime)
    {
        var proc = new Linux.ProcFs(runtime.Proc);
        var cgroups = new Linux.CgroupV2(runtime.CgroupRoot);
        if (runtime.Kind == RuntimeKind.Containerd)
        {
            services.AddSingleton(s => new Runtime.Containerd.ContainerdRuntime(runtime.Containerd, proc,
                s.GetRequiredService<ILogger<Runtime.Containerd.ContainerdRuntime>>()));
            services.AddSingleton<Runtime.IContainerRuntime>(s => s.GetRequiredService<Runtime.Containerd.ContainerdRuntime>());
            services.AddHostedService(s => s.GetRequiredService<Runtime.Containerd.ContainerdRuntime>());
        }
        else
        {
            services.AddSingleton<Runtime.IContainerRuntime>(new Runtime.ProcessContainerRuntime(runtime.Process.PidDirectory, runtime.Process.CgroupPattern, cgroups, proc));
        }
        services.AddSingleton(s => new WorkspaceContainers(s.GetRequiredService<Runtime.IContainerRuntime>(), proc));
        services.AddSingleton(new IdMappingRules(runtime.RootRange, runtime.UserRanges));
        services.AddSingleton(s => new CgroupDelegation(cgroups, runtime.RootRange.Start, s.GetRequiredService<ILogger<CgroupDelegation>>()));
        services.AddSingleton(new ResourceUsage(cgroups, runtime.Proc));
        services.AddSingleton(new Linux.NamespaceHelper(Environment.ProcessPath ?? "/proc/self/exe"));
        services.AddSingleton<InWorkspaceOperations>();
        services.AddSingleton<WorkspaceNetwork>();
    }
}
