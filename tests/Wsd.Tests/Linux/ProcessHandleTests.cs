using System.Diagnostics;
using Wsd.Interop;
using Wsd.Linux;
using Wsd.Tests.Support;

namespace Wsd.Tests.Linux;

/// <summary>A process held by pidfd keeps naming that process after its PID has passed to another (issue 14, item 7).</summary>
public sealed class ProcessHandleTests
{
    static Process Sleeper() => Process.Start(new ProcessStartInfo("sleep", "1000") { UseShellExecute = false })!;

    // The node's next PID is the one after ns_last_pid: set it just below the PID wanted and start
    // a process at once. Anything else on the machine that forks in between takes the PID first, so try a few times.
    static Process? StartWithPid(int pid)
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            File.WriteAllText("/proc/sys/kernel/ns_last_pid", (pid - 1).ToString());
            var process = Sleeper();
            if (process.Id == pid)
                return process;
            process.Kill();
            process.WaitForExit();
        }
        return null;
    }

    [Fact]
    public void AHandleOfAnEndedProcessDoesNotReachTheProcessGivenItsPid()
    {
        Tools.RequireRoot("reusing a PID on purpose writes /proc/sys/kernel/ns_last_pid");
        var first = Sleeper();
        int pid = first.Id;
        using var handle = ProcessHandle.Open(new ProcFs(), pid)!;
        ulong startTime = handle.StartTime();
        Thread.Sleep(50); // start times count 10 ms ticks: the second process starts in a later one
        first.Kill();
        first.WaitForExit();

        using var second = StartWithPid(pid);
        Assert.SkipWhen(second is null, $"PID {pid} could not be handed to a new process (the machine is forking too much)");
        try
        {
            // By PID, /proc shows the new process, as the daemon saw it before it held processes.
            Assert.Contains("sleep", File.ReadAllText($"/proc/{pid}/cmdline"));

            Assert.False(handle.IsAlive);
            var e = Assert.Throws<SyscallException>(() => handle.ReadEntry("status"));
            Assert.Equal(3, e.Errno); // ESRCH
            using var again = ProcessHandle.Open(new ProcFs(), pid)!;
            Assert.NotEqual(startTime, again.StartTime()); // what the namespace helper checks
        }
        finally
        {
            second!.Kill();
            second.WaitForExit();
        }
    }

    [Fact]
    public void AHandleReadsItsOwnProcess()
    {
        using var self = ProcessHandle.Open(new ProcFs(), Environment.ProcessId)!;

        Assert.True(self.IsAlive);
        Assert.Equal(Environment.ProcessId, self.NsPids()[0]);
        Assert.True(self.IsInPidNamespaceOf(self, 0));
        Assert.Null(ProcessHandle.Open(new ProcFs(), 1 << 22));
    }
}
