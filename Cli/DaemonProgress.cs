using System.Text.Json;

namespace Wsd.Cli;

/// <summary>
/// Polls a daemon's <c>/progress</c> (health listener) for one workspace while a <c>wsd client</c>
/// call runs, so the terminal shows what the daemon is doing: the content API's calls are unary
/// and say nothing until they end. Without an answer (another port, an older daemon) the line
/// shows the command and the time only.
/// </summary>
sealed class DaemonProgress : IDisposable
{
    readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(2) };
    readonly CancellationTokenSource _stop = new();
    readonly Task _polling;
    readonly string _id;
    ProgressLine.Figures _latest;

    DaemonProgress(string healthAddress, string command, string id)
    {
        _id = id;
        _latest = new ProgressLine.Figures($"{command} {id}", null, null);
        _polling = PollAsync(new Uri($"http://{healthAddress}/progress"), command);
    }

    /// <summary>A progress line fed by the daemon, or null when stderr is not a terminal.</summary>
    public static IDisposable? Show(string healthAddress, string command, string id)
    {
        if (!ProgressLine.CanShow)
            return null; // no polling where nothing would be drawn
        var progress = new DaemonProgress(healthAddress, command, id);
        return new Both(ProgressLine.Start(() => progress._latest)!, progress);
    }

    async Task PollAsync(Uri uri, string command)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var document = JsonDocument.Parse(await _http.GetStringAsync(uri, _stop.Token));
                _latest = document.RootElement.TryGetProperty(_id, out var work)
                    ? new ProgressLine.Figures($"{work.GetProperty("operation").GetString()} {_id}", work.GetProperty("bytes").GetInt64(), work.GetProperty("files").GetInt64())
                    : new ProgressLine.Figures($"{command} {_id}", null, null);
            }
            catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException or KeyNotFoundException or InvalidOperationException)
            {
            }
            try
            {
                await Task.Delay(500, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _polling.ContinueWith(_ => { }, TaskScheduler.Default).Wait(TimeSpan.FromSeconds(1));
        _http.Dispose();
        _stop.Dispose();
    }

    sealed class Both(IDisposable line, IDisposable progress) : IDisposable
    {
        public void Dispose()
        {
            line.Dispose();
            progress.Dispose();
        }
    }
}
