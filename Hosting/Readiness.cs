using Wsd.Config;

namespace Wsd.Hosting;

/// <summary>
/// What /ready reports: serving, not shutting down, and the directories the daemon writes to are
/// there. Each check has a name so an operator reading the probe output sees which one failed.
/// </summary>
public sealed class Readiness(IHostApplicationLifetime lifetime, WsdConfig config)
{
    public IReadOnlyList<(string Name, string? Problem)> Check() =>
    [
        ("serving", lifetime.ApplicationStarted.IsCancellationRequested ? null : "starting"),
        ("not-stopping", lifetime.ApplicationStopping.IsCancellationRequested ? "shutting down" : null),
        ("working-area", DirectoryProblem(config.Content.WorkingArea)),
        ("storage", config.Content.Storage.Kind == StorageKind.Local ? DirectoryProblem(config.Content.Storage.Local.Root) : null),
    ];

    static string? DirectoryProblem(string path) => Directory.Exists(path) ? null : $"{path} does not exist";
}
