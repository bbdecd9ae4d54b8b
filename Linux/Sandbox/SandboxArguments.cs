namespace Wsd.Linux.Sandbox;

/// <summary>
/// The command line of <c>wsd internal-sandbox</c>, the daemon's own binary started inside the new
/// namespaces to build the sandbox's root and exec the program:
/// <c>internal-sandbox [--bind ROOT RELATIVE TARGET ro|rw]... --cwd DIR -- PROGRAM [ARGS...]</c>.
/// </summary>
public static class SandboxArguments
{
    public const string Command = "internal-sandbox";

    public static List<string> Format(SandboxCommand command)
    {
        var args = new List<string> { Command };
        foreach (var bind in command.Binds)
            args.AddRange(["--bind", bind.Root, bind.Relative, bind.Target, bind.Writable ? "rw" : "ro"]);
        args.AddRange(["--cwd", command.WorkingDirectory, "--", command.Program, .. command.Arguments]);
        return args;
    }

    /// <summary>The binds, working directory and program line; null when the line is malformed.</summary>
    public static (List<SandboxBind> Binds, string WorkingDirectory, string[] Program)? Parse(string[] args)
    {
        var binds = new List<SandboxBind>();
        string? cwd = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--bind" when i + 4 < args.Length && args[i + 4] is "ro" or "rw":
                    binds.Add(new SandboxBind(args[i + 1], args[i + 2], args[i + 3], args[i + 4] == "rw"));
                    i += 4;
                    break;
                case "--cwd" when i + 1 < args.Length:
                    cwd = args[++i];
                    break;
                case "--" when cwd is not null && i + 1 < args.Length:
                    return (binds, cwd, args[(i + 1)..]);
                default:
                    return null;
            }
        }
        return null;
    }
}
