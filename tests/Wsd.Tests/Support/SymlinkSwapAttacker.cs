namespace Wsd.Tests.Support;

/// <summary>
/// A workspace user racing the daemon: directories inside a tree are moved aside and replaced by
/// symlinks to a canary directory outside it, then put back, over and over on a thread of its own
/// until disposed. The canary holds the same names as each victim (inner/f0.., a), so a delete that
/// re-resolves a path it listed a moment before, through a victim that is a symlink by then, removes
/// the canary's files instead.
/// </summary>
public sealed class SymlinkSwapAttacker : IDisposable
{
    public const int InnerFiles = 20, CanaryFiles = InnerFiles + 1, Victims = 200;

    readonly string _tree, _canary;
    readonly CancellationTokenSource _stop = new();
    readonly Thread _thread;

    /// <summary>Fills <paramref name="tree"/> with victim directories and starts swapping them for symlinks to <paramref name="canary"/>.</summary>
    public SymlinkSwapAttacker(string tree, string canary)
    {
        _tree = tree;
        _canary = canary;
        MakeCanary(canary);
        for (int v = 0; v < Victims; v++)
        {
            string victim = Victim(v);
            Fill(victim, "");
        }
        _thread = new Thread(Swap) { IsBackground = true, Name = "attacker" };
        _thread.Start();
    }

    string Victim(int v) => Path.Combine(_tree, $"victim-{v}");

    static void MakeCanary(string canary)
    {
        if (!Directory.Exists(canary))
            Fill(canary, "untouched");
    }

    static void Fill(string directory, string content)
    {
        Directory.CreateDirectory(Path.Combine(directory, "inner"));
        for (int f = 0; f < InnerFiles; f++)
            File.WriteAllText(Path.Combine(directory, "inner", $"f{f}"), content);
        File.WriteAllText(Path.Combine(directory, "a"), content);
    }

    // All victims become symlinks at once, stay so for a moment, and come back: about half the
    // time any directory the daemon listed is a symlink when it gets to it.
    void Swap()
    {
        var stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            for (int v = 0; v < Victims; v++)
                Try(() => Directory.Move(Victim(v), Victim(v) + ".aside"), () => File.CreateSymbolicLink(Victim(v), _canary));
            Thread.Sleep(1);
            for (int v = 0; v < Victims; v++)
                Try(() => File.Delete(Victim(v)), () => Directory.Move(Victim(v) + ".aside", Victim(v)));
            Thread.Sleep(1);
        }
    }

    static void Try(Action first, Action then)
    {
        try
        {
            first();
            then();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the daemon removed something first
        }
    }

    /// <summary>Fails with how much of the canary is gone, if any of it is.</summary>
    public static void AssertCanaryUntouched(string canary, string when)
    {
        int left = Directory.GetFiles(canary, "*", SearchOption.AllDirectories).Length;
        Assert.True(left == CanaryFiles,
            $"{when}: the delete reached outside the workspace ({CanaryFiles - left} of {CanaryFiles} canary files gone)");
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        _stop.Dispose();
    }
}
