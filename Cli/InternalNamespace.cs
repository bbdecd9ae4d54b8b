using System.Globalization;
using Wsd.Linux;

namespace Wsd.Cli;

/// <summary>
/// <c>wsd internal-ns mount|unmount proc|sysfs|nfs4 PROC PID@OWNPID@STARTTIME TARGET [SOURCE OPTIONS]</c>: not for operators. The daemon
/// starts itself this way as a member of a workspace's PID namespace (a proc mount shows the PID
/// namespace of the process that mounts it) to do the namespace work of MountProc, MountSysfs and
/// MountNfs and their unmounts. The process is named by its PID in PROC, its PID in its own PID
/// namespace (the helper's) and its start time (field 22 of /proc/PID/stat); the helper holds it by
/// pidfd and works on it only if the process so named started then: a PID handed on to another
/// process meanwhile is refused. Exit 0 done, 3 the target is unusable
/// (INVALID_ARGUMENT), 1 any other failure; the reason goes to stderr.
/// </summary>
static class InternalNamespace
{
    public static int Run(string[] args)
    {
        if (args is not [var operation and ("mount" or "unmount"), var kind and ("proc" or "sysfs" or "nfs4"), var proc, var identity, var target, ..]
            || identity.Split('@') is not [var pidText, var ownPidText, var startText]
            || !int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
            || !int.TryParse(ownPidText, NumberStyles.None, CultureInfo.InvariantCulture, out int ownPid)
            || !ulong.TryParse(startText, NumberStyles.None, CultureInfo.InvariantCulture, out ulong startTime)
            || args.Length != (kind == "nfs4" && operation == "mount" ? 7 : 5))
        {
            Console.Error.WriteLine("usage: wsd internal-ns mount|unmount proc|sysfs|nfs4 PROC PID@OWNPID@STARTTIME TARGET [SOURCE OPTIONS]");
            return 2;
        }
        try
        {
            using var process = ProcessHandle.OpenFromInside(new ProcFs(proc), pid, ownPid);
            if (process is null || process.StartTime() != startTime)
                throw new PseudoFsMounts.BadTargetException($"PID {pid} has ended");
            if (operation == "mount")
                PseudoFsMounts.Mount(kind, process, target, args.Length == 7 ? args[5] : null, args.Length == 7 ? args[6] : null);
            else
                PseudoFsMounts.Unmount(kind, process, target);
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
