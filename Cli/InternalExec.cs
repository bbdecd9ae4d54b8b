using System.Globalization;
using Wsd.Interop;

namespace Wsd.Cli;

/// <summary>
/// <c>wsd internal-exec UID GID PROGRAM [ARGS...]</c>: not for operators. The daemon starts itself
/// this way to run a program (git) as an unprivileged user without needing setpriv or a shell in
/// the image.
/// </summary>
static class InternalExec
{
    public static int Run(string[] args)
    {
        if (args.Length < 3 ||
            !uint.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out uint uid) ||
            !uint.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out uint gid))
        {
            Console.Error.WriteLine("usage: wsd internal-exec UID GID PROGRAM [ARGS...]");
            return 2;
        }
        var error = RunAs.Exec(uid, gid, args[2], args[3..]);
        Console.Error.WriteLine($"wsd internal-exec: {error.Message}");
        return 127;
    }
}
