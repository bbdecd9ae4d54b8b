using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Wsd.Archive;

namespace Wsd.Content;

/// <summary>
/// What content work runs right now, per workspace, with its counters as they grow: served as
/// JSON on the health listener's <c>/progress</c>, which <c>wsd client</c> polls to show progress
/// on a terminal (the content API's calls are unary and upstream's; they carry none).
/// </summary>
public sealed class ContentProgress : Observability.IProgressReport
{
    readonly ConcurrentDictionary<string, Tracker> _running = new(StringComparer.Ordinal);

    /// <summary>One piece of work; it is listed until disposed.</summary>
    public sealed class Tracker(ContentProgress owner, string instanceId, string kind) : IDisposable
    {
        internal string Kind { get; } = kind;
        internal long Started { get; } = Stopwatch.GetTimestamp();

        /// <summary>The archive run's stats as they fill.</summary>
        public ArchiveStats Stats { get; private set; } = new();

        /// <summary>Fresh stats for a new archive run (a retry, a new phase), shown from now on.</summary>
        public ArchiveStats NewRun() => Stats = new ArchiveStats();

        public void Dispose() => owner._running.TryRemove(new KeyValuePair<string, Tracker>(instanceId, this));
    }

    public Tracker Begin(string instanceId, string kind)
    {
        var tracker = new Tracker(this, instanceId, kind);
        _running[instanceId] = tracker;
        return tracker;
    }

    /// <summary>{"&lt;id&gt;": {"operation": "backup", "seconds": 3.2, "files": 1234, "bytes": 5678}, ...}</summary>
    public void WriteJson(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        foreach (var (id, tracker) in _running.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            var stats = tracker.Stats;
            json.WriteStartObject(id);
            json.WriteString("operation", tracker.Kind);
            json.WriteNumber("seconds", Math.Round(Stopwatch.GetElapsedTime(tracker.Started).TotalSeconds, 1));
            json.WriteNumber("files", stats.Entries);
            json.WriteNumber("bytes", stats.DataBytes);
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }
}
