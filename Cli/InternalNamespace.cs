using System.Globalization;
using Wsd.Linux;

namespace Wsd.Cli;

/// <summary>
/// <c>wsd internal-ns mount|unmount proc|sysfs|nfs4 PROC PID TARGET [SOURCE OPTIONS]</c>: not for operators. The daemon
/// starts itself this way as a member of a workspace's PID namespace (a proc mount shows the PID
/// namespace of the process that mounts it) to do the namespace work of MountProc, MountSysfs and
/// MountNfs and their unmounts. Exit 0 done, 3 the target is unusable (INVALID_ARGUMENT), 1 any other failure;
/// the reason goes to stderr.
/// </summary>
static class InternalNamespace
{
    public static int Run(string[] args)
    {
        if (args is not [var operation and ("mount" or "unmount"), var kind and ("proc" or "sysfs" or "nfs4"), var proc, var pidText, var target, ..]
            || !int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
            || args.Length != (kind == "nfs4" && operation == "mount" ? 7 : 5))
        {
            Console.Error.WriteLine("usage: wsd internal-ns mount|unmount proc|sysfs|nfs4 PROC PID TARGET [SOURCE OPTIONS]");
            return 2;
        }
        try
        {
            if (operation == "mount")
                PseudoFsMounts.Mount(kind, proc, pid, target, args.Length == 7 ? args[5] : null, args.Length == 7 ? args[6] : null);
            else
                PseudoFsMounts.Unmount(kind, proc, pid, target);
            return 0;
        }
        catch (PseudoFsMounts.BadTargetException e)
        {
            Console.Error.WriteLine(e.Message);
            return NamespaceHelper.BadTargetExit;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
    }
}
