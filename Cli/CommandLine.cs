using Wsd.Config;
using Wsd.Observability;

namespace Wsd.Cli;

/// <summary>The <c>wsd</c> commands (docs/decisions.md#process-and-configuration). Exit codes: 0 success, 1 failure, 2 usage error.</summary>
public static class CommandLine
{
    const string Usage = """
        usage:
          wsd run [--config FILE] [--verbose]   serve (the embedded default when no FILE is given)
          wsd config validate FILE              check a configuration file
          wsd config default                    print the embedded default configuration
          wsd version                           print the version
          wsd quota DIR                         project quotas (ids 1000-9999) on DIR's filesystem, one JSON line each
        """ + "\n" + ArchiveCommand.Usage + "\n" + StoredArchiveCommand.Usage + "\n" + ClientCommand.Usage + "\n" + IwsCommand.Usage;

    /// <summary>Runs the command <paramref name="args"/> name; <c>run</c> serves the daemon <paramref name="buildDaemon"/> builds.</summary>
    public static async Task<int> RunAsync(string[] args, Func<WsdConfig, bool, WebApplication> buildDaemon)
    {
        // Helper modes the daemon starts itself with; they must not print anything else. The sandbox
        // comes before askpass: it carries the askpass marker on to git.
        if (args is ["internal-ns", .. var ns])
            return InternalNamespace.Run(ns);
        if (args is [Linux.Sandbox.SandboxArguments.Command, .. var sandbox])
            return InternalSandbox.Run(sandbox);
        if (GitAskPass.IsRequested)
            return GitAskPass.Answer(args);
        try
        {
            return args switch
            {
                ["run", .. var rest] => await Serve(rest, buildDaemon),
                ["version" or "--version"] => Print($"wsd {BuildInfo.Version}"),
                ["config", "validate", var file] => Validate(file),
                ["config", "default"] => Print(ConfigLoader.DefaultJson()),
                ["archive", .. var rest] => ArchiveCommand.Run(rest),
                ["client", .. var rest] => await ClientCommand.RunAsync(rest),
                ["quota", .. var rest] => QuotaCommand.Run(rest),
                ["iws", .. var rest] => await IwsCommand.RunAsync(rest),
                ["help" or "--help" or "-h"] => Print(Usage),
                _ => UsageError(args.Length == 0 ? "no command given" : $"unknown command '{string.Join(' ', args)}'"),
            };
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine($"wsd: invalid configuration: {e.Message}");
            return 1;
        }
        catch (UsageException e)
        {
            return UsageError(e.Message);
        }
        catch (Errors.WsdException e)
        {
            Console.Error.WriteLine($"wsd: {e.Message}");
            return 1;
        }
        catch (IOException e) when (args is ["archive" or "quota", ..])
        {
            Console.Error.WriteLine($"wsd: {e.Message}");
            return 1;
        }
    }

    static async Task<int> Serve(string[] args, Func<WsdConfig, bool, WebApplication> buildDaemon)
    {
        string? configFile = null;
        bool verbose = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--config" or "-c" when i + 1 < args.Length:
                    configFile = args[++i];
                    break;
                case "--verbose" or "-v":
                    verbose = true;
                    break;
                default:
                    return UsageError($"unknown option '{args[i]}' for run");
            }
        }

        var config = ConfigLoader.Load(configFile);
        try
        {
            // Building binds the listeners and creates the directories (Hosting.StartupPreparation),
            // so the usual reasons not to start are found before any service runs.
            await using var daemon = buildDaemon(config, verbose);
            try
            {
                await daemon.StartAsync();
            }
            catch
            {
                // Stopped before it is disposed: the host then takes the services it cancels as
                // stopped, not as crashed, and reports none of them.
                await daemon.StopAsync();
                throw;
            }
            await daemon.WaitForShutdownAsync();
        }
        catch (IOException e)
        {
            // An address already in use, a directory that cannot be made: say which and stop, no stack trace.
            Console.Error.WriteLine($"wsd: cannot serve: {e.Message}");
            return 1;
        }
        return 0;
    }

    static int Validate(string file)
    {
        ConfigLoader.Load(file);
        Console.WriteLine($"{file}: ok");
        return 0;
    }

    static int Print(string text)
    {
        Console.WriteLine(text);
        return 0;
    }

    static int UsageError(string problem)
    {
        Console.Error.WriteLine($"wsd: {problem}");
        Console.Error.WriteLine(Usage);
        return 2;
    }
}
