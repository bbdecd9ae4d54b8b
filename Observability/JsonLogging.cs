using Microsoft.Extensions.Logging.Console;

namespace Wsd.Observability;

/// <summary>One JSON object per line on stdout (docs/decisions.md#process-and-configuration), through the console JSON formatter.</summary>
public static class JsonLogging
{
    public static void Configure(ILoggingBuilder logging, string level, bool verbose)
    {
        var minimum = verbose ? LogLevel.Debug : Parse(level);
        logging.ClearProviders();
        logging.SetMinimumLevel(minimum);
        // The framework's own chatter (per-request lines, connection events) only when asked for.
        if (minimum > LogLevel.Debug)
        {
            logging.AddFilter("Microsoft", LogLevel.Warning);
            logging.AddFilter("Grpc", LogLevel.Warning);
        }
        logging.AddJsonConsole(json =>
        {
            json.IncludeScopes = true;
            json.UseUtcTimestamp = true;
            json.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";
            // Relaxed escaping keeps "+", "<" and quotes in paths and versions readable in the log.
            json.JsonWriterOptions = new System.Text.Json.JsonWriterOptions
            {
                Indented = false,
                Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            };
        });
        logging.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.None);
    }

    public static LogLevel Parse(string level) => level switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "warning" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "critical" => LogLevel.Critical,
        _ => LogLevel.Information,
    };
}
