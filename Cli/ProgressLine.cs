using System.Diagnostics;
using System.Globalization;

namespace Wsd.Cli;

/// <summary>
/// A live line on stderr for long commands (bytes, files, rate, elapsed), redrawn four times a
/// second, only when stderr is a terminal: piped or redirected, the commands print their one JSON
/// line and nothing else, so scripts stay clean. The line is cleared when the work ends.
/// </summary>
sealed class ProgressLine : IDisposable
{
    /// <summary>What the line shows: counters may be null where the work has none (yet).</summary>
    public sealed record Figures(string What, long? Bytes, long? Files);

    readonly Func<Figures> _read;
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly Timer _timer;
    readonly Lock _lock = new();
    bool _ended;

    ProgressLine(Func<Figures> read)
    {
        _read = read;
        _timer = new Timer(_ => Draw(), null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
    }

    /// <summary>Whether stderr is a terminal that can take a redrawn line.</summary>
    public static bool CanShow => !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") != "dumb";

    /// <summary>A progress line, or null when stderr is not a terminal.</summary>
    public static ProgressLine? Start(Func<Figures> read) => CanShow ? new ProgressLine(read) : null;

    void Draw()
    {
        lock (_lock)
        {
            if (_ended)
                return;
            Console.Error.Write("\r" + Format(_read(), _clock.Elapsed) + "\x1b[K");
        }
    }

    static string Format(Figures figures, TimeSpan elapsed)
    {
        var parts = new List<string> { figures.What };
        if (figures.Bytes is long bytes)
        {
            parts.Add(Size(bytes));
            if (figures.Files is long files)
                parts.Add(files.ToString("N0", CultureInfo.InvariantCulture) + " files");
            if (elapsed.TotalSeconds >= 0.5)
                parts.Add(Size(bytes / elapsed.TotalSeconds) + "/s");
        }
        parts.Add(elapsed.ToString(elapsed.TotalHours >= 1 ? @"h\:mm\:ss" : @"m\:ss", CultureInfo.InvariantCulture));
        return string.Join(", ", parts);
    }

    static string Size(double bytes) => bytes switch
    {
        >= 1e9 => (bytes / 1e9).ToString("F2", CultureInfo.InvariantCulture) + " GB",
        >= 1e6 => (bytes / 1e6).ToString("F1", CultureInfo.InvariantCulture) + " MB",
        _ => (bytes / 1e3).ToString("F0", CultureInfo.InvariantCulture) + " kB",
    };

    public void Dispose()
    {
        lock (_lock)
        {
            _ended = true;
            Console.Error.Write("\r\x1b[K");
        }
        _timer.Dispose();
    }
}
