using System.Text;
using Wsd.Interop;

namespace Wsd.Archive;

/// <summary>
/// Applies a restored file's owner, mode, xattrs and times and closes it, on a thread of its own:
/// the extractor only creates and fills files, so the two halves of each file's syscalls run on two
/// cores. The first failure is kept and reported to the extractor.
/// </summary>
sealed unsafe class FileFinisher : IDisposable
{
    public readonly record struct Job(int Fd, bool Chown, uint Uid, uint Gid, uint Mode, long MtimeSeconds, int MtimeNanoseconds,
        List<KeyValuePair<string, byte[]>>? Xattrs);

    readonly HandOff<Job> _jobs = new(256);
    readonly Thread _thread;
    readonly bool _xattrs;
    Exception? _error;

    public FileFinisher(bool xattrs)
    {
        _xattrs = xattrs;
        _thread = new Thread(Run) { IsBackground = true, Name = "wsd tar finisher" };
        _thread.Start();
    }

    public void Enqueue(in Job job)
    {
        ThrowIfFailed();
        if (!_jobs.Add(job))
            Libc.Close(job.Fd);
    }

    /// <summary>Waits until every queued file is finished; throws the first failure.</summary>
    public void Complete()
    {
        _jobs.Complete();
        _thread.Join();
        ThrowIfFailed();
    }

    void ThrowIfFailed()
    {
        if (Volatile.Read(ref _error) is { } error)
            throw error;
    }

    void Run()
    {
        var times = stackalloc TimeSpec[2];
        while (_jobs.Take(out var job))
        {
            try
            {
                if (_error is null)
                    Finish(job, times);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
            }
            finally
            {
                Libc.Close(job.Fd);
            }
        }
    }

    void Finish(in Job job, TimeSpec* times)
    {
        // Owner before mode (chown clears setuid/setgid) and before xattrs (it clears
        // security.capability); times last.
        if (job.Chown && Libc.FChown(job.Fd, job.Uid, job.Gid) != 0)
            throw Failed("fchown", job.Fd);
        if (Libc.FChmod(job.Fd, job.Mode) != 0)
            throw Failed("fchmod", job.Fd);
        if (_xattrs && job.Xattrs is not null)
        {
            int fd = job.Fd;
            XattrPolicy.Restore(fd, job.Xattrs, () => PathOf(fd));
        }
        times[0] = new TimeSpec { Nanoseconds = TimeSpecValues.Omit };
        times[1] = new TimeSpec { Seconds = job.MtimeSeconds, Nanoseconds = job.MtimeNanoseconds };
        if (Libc.FUtimens(job.Fd, times) != 0)
            throw Failed("futimens", job.Fd);
    }

    // The errno first: reading the name through /proc makes calls of its own, which may overwrite it.
    static SyscallException Failed(string call, int fd)
    {
        int errno = Errno.Last;
        return new(call, PathOf(fd), errno);
    }

    // Errors name the file through /proc, so no name is kept per job.
    static string PathOf(int fd)
    {
        try
        {
            return new FileInfo($"/proc/self/fd/{fd}").LinkTarget ?? $"fd {fd}";
        }
        catch (IOException)
        {
            return $"fd {fd}";
        }
    }

    public void Dispose()
    {
        _jobs.Complete();
        _thread.Join();
    }
}

/// <summary>Which xattrs are restored: user.* and security.capability, never trusted.* nor overlayfs bookkeeping (docs/compatibility.md#extracting-archives).</summary>
static unsafe class XattrPolicy
{
    public static bool IsRestorable(string name) =>
        (name.StartsWith("user.", StringComparison.Ordinal) &&
         !name.EndsWith(".overlay.impure", StringComparison.Ordinal) &&
         !name.EndsWith(".overlay.origin", StringComparison.Ordinal)) ||
        name == "security.capability";

    public static void Restore(int fd, List<KeyValuePair<string, byte[]>> xattrs, Func<string> nameForErrors)
    {
        foreach (var (name, value) in xattrs)
        {
            if (!IsRestorable(name))
                continue;
            var nameBytes = Encoding.UTF8.GetBytes(name + "\0");
            fixed (byte* n = nameBytes)
            fixed (byte* v = value)
            {
                if (Libc.FSetXattr(fd, n, v, value.Length, 0) != 0)
                {
                    int errno = Errno.Last;
                    // A file system without xattrs, or a capability this kernel refuses: the
                    // content is there, the attribute cannot be.
                    if (errno is not (Errno.EOPNOTSUPP or Errno.EPERM or Errno.EINVAL))
                        throw new SyscallException("fsetxattr", $"{nameForErrors()} {name}", errno);
                }
            }
        }
    }
}
