using Wsd.Errors;
using Wsd.Interop;

namespace Wsd.Linux;

/// <summary>
/// Turns a write that failed because its filesystem is full, over a quota or read-only into an
/// answer an operator can act on: which filesystem, how much was needed and is free, and what to do
/// (docs/faults.md). Anything else is left for the caller to judge.
/// </summary>
public static class FilesystemFaults
{
    /// <summary>An exception's <see cref="Exception.Data"/> key for the bytes the failed step needed in all, when known.</summary>
    public const string NeededBytesKey = "wsd.neededBytes";

    /// <summary>
    /// The answer for <paramref name="e"/> if a full, over-quota or read-only filesystem caused it,
    /// naming <paramref name="what"/> at <paramref name="path"/>; null otherwise. Errors that already
    /// say RESOURCE_EXHAUSTED, or that a filesystem cannot have caused, are not rewritten.
    /// </summary>
    public static WsdException? Explain(Exception e, string what, string path)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is FilesystemFaultException explained)
                return explained;
        }
        if (e is WsdException { Code: ErrorCode.ResourceExhausted } || CauseOf(e) is not (var errno, var cause))
            return null;
        string space = Space(path, NeededOf(e));
        return errno switch
        {
            Errno.ENOSPC => new FilesystemFaultException(ErrorCode.ResourceExhausted,
                $"{what} {path}: no space left ({space}); free space there, then retry", cause),
            Errno.EDQUOT => new FilesystemFaultException(ErrorCode.ResourceExhausted,
                $"{what} {path}: its disk quota is used up ({space}); raise the quota or free space, then retry", cause),
            _ => new FilesystemFaultException(ErrorCode.FailedPrecondition,
                $"{what} {path} is on a read-only filesystem ({cause.Message}); make it writable, then retry", cause),
        };
    }

    /// <summary>True when a full, over-quota or read-only filesystem caused <paramref name="e"/>: trying again at once cannot help.</summary>
    public static bool IsFilesystemFault(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is FilesystemFaultException)
                return true;
        }
        return e is not WsdException { Code: ErrorCode.ResourceExhausted } && CauseOf(e) is not null;
    }

    /// <summary>True when <paramref name="e"/> was caused by a full or over-quota filesystem.</summary>
    public static bool IsOutOfSpace(Exception e) => CauseOf(e) is (Errno.ENOSPC or Errno.EDQUOT, _);

    // The errno of the first exception in the chain that carries one. Git runs in a sandbox and only
    // its words come back, so the C library's messages count too.
    static (int Errno, Exception Cause)? CauseOf(Exception e)
    {
        for (var current = e; current is not null; current = current.InnerException)
        {
            if (current is AggregateException { InnerExceptions.Count: 1 } aggregate)
                return CauseOf(aggregate.InnerExceptions[0]);
            int? errno = current switch
            {
                SyscallException syscall => syscall.Errno,
                IOException io when io.HResult is Errno.ENOSPC or Errno.EDQUOT or Errno.EROFS => io.HResult,
                _ => null,
            };
            errno ??= current.Message.Contains("No space left on device", StringComparison.Ordinal) ? Errno.ENOSPC
                : current.Message.Contains("Disk quota exceeded", StringComparison.Ordinal) ? Errno.EDQUOT
                : current.Message.Contains("Read-only file system", StringComparison.Ordinal) ? Errno.EROFS
                : null;
            if (errno is Errno.ENOSPC or Errno.EDQUOT or Errno.EROFS)
                return (errno.Value, current);
        }
        return null;
    }

    static long? NeededOf(Exception e)
    {
        for (var current = e; current is not null; current = current.InnerException)
        {
            if (current.Data[NeededBytesKey] is long needed)
                return needed;
        }
        return null;
    }

    static string Space(string path, long? needed)
    {
        string need = needed is { } n ? $"needed about {FreeSpace.Format(n)}, " : "";
        try
        {
            var (available, total) = FreeSpace.Of(path);
            return $"{need}free {FreeSpace.Format(available)} of {FreeSpace.Format(total)}";
        }
        catch (IOException)
        {
            return need + "free space unknown";
        }
    }
}

/// <summary>A failure already explained by <see cref="FilesystemFaults"/>, so callers further up keep its words and its filesystem.</summary>
public sealed class FilesystemFaultException(ErrorCode code, string message, Exception inner) : WsdException(code, message, inner);
