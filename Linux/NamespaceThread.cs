namespace Wsd.Linux;

/// <summary>
/// Runs work on a thread of its own that ends with it. setns(2) into a network, PID or mount
/// namespace changes only the calling thread, so work that joins one runs here and no pooled thread
/// ever carries a changed namespace into other work.
/// </summary>
public static class NamespaceThread
{
    public static Task<T> RunAsync<T>(string name, Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                done.SetResult(work());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        }) { IsBackground = true, Name = name };
        thread.Start();
        return done.Task;
    }
}
