using Wsd.Linux.Sandbox;

namespace Wsd.Cli;

/// <summary>
/// <c>wsd internal-sandbox ...</c>: not for operators. The daemon starts its own binary this way,
/// already inside a sandbox's new namespaces, to build the sandbox's root and exec the program
/// (see <see cref="SandboxArguments"/>). Exit 125 with the reason on stderr when it cannot.
/// </summary>
static class InternalSandbox
{
    public static int Run(string[] args)
    {
        if (SandboxArguments.Parse(args) is not var (binds, cwd, program))
        {
            Console.Error.WriteLine("usage: wsd internal-sandbox [--bind ROOT RELATIVE TARGET ro|rw]... --cwd DIR -- PROGRAM [ARGS...]");
            return 2;
        }
        var failure = SandboxRoot.EnterAndExec(binds, cwd, program);
        Console.Error.WriteLine($"wsd sandbox: {failure.Message}");
        return SandboxRoot.SetupFailedExit;
    }
}
