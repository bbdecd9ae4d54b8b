using System.Net;
using Wsd.Config;
using Wsd.Workspaces;
using Wsd.Workspaces.InWorkspace;

namespace Wsd.Hosting;

/// <summary>
/// What the daemon needs before its host is built, and what most often keeps it from starting: its
/// directories, the TLS files, the fs shift method and its two listening sockets. Each failure is an
/// IOException naming the setting, so the command line can say why in one line.
/// </summary>
public static class StartupPreparation
{
    public sealed record Prepared(WorkingArea Area, Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions? Tls, FsShiftChoice FsShift,
        PreboundSockets Sockets, IPEndPoint ServiceEndPoint, IPEndPoint HealthEndPoint);

    public static Prepared Prepare(WsdConfig config)
    {
        ListenAddress.TryParse(config.Service.Address, out var serviceEndPoint, out _);
        ListenAddress.TryParse(config.Health.Address, out var healthEndPoint, out _);

        var area = new WorkingArea(config.Content.WorkingArea);
        CreateDirectory("content.workingArea", area.Root, area.Create);
        if (config.Content.Storage.Kind == StorageKind.Local)
            CreateDirectory("content.storage.local.root", config.Content.Storage.Local.Root, () => Directory.CreateDirectory(config.Content.Storage.Local.Root));
        var tls = config.Service.Tls is { } tlsConfig ? TlsOptions.Create(tlsConfig) : null;
        var fsShift = FsShiftChoice.ForKernel(config.Runtime.FsShift, config.Runtime.Proc);
        var sockets = new PreboundSockets();
        try
        {
            sockets.Bind("service.address", serviceEndPoint);
            sockets.Bind("health.address", healthEndPoint);
        }
        catch
        {
            sockets.Dispose();
            throw;
        }
        return new Prepared(area, tls, fsShift, sockets, serviceEndPoint, healthEndPoint);
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
}
