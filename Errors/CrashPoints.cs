namespace Wsd.Errors;

/// <summary>
/// Named points where a test has the daemon killed outright (SIGKILL: no finally block, no flush,
/// no cleanup), to show that a crash at each leaves every workspace and every acknowledged backup
/// recoverable (docs/faults.md#crash-points). Inert unless the environment variable
/// <c>WSD_CRASH_AT</c> names a point, as <c>NAME</c> or <c>NAME:N</c> for its Nth passing; it is read
/// once, at start. Only whoever sets the daemon's environment can arm one.
/// </summary>
public static class CrashPoints
{
    static readonly (string Name, int Count)? Armed = Parse(Environment.GetEnvironmentVariable("WSD_CRASH_AT"));
    static int _passed;

    /// <summary>A chunked backup stored one more pack.</summary>
    public const string ChunkedPackStored = "chunked-pack-stored";
    /// <summary>A chunked backup stored all its packs and recipe, not yet its manifest.</summary>
    public const string ChunkedBeforeManifest = "chunked-before-manifest";
    /// <summary>A chunked backup's manifest is committed; its files cache is not written yet.</summary>
    public const string ChunkedManifestCommitted = "chunked-manifest-committed";
    /// <summary>A chunked restore handed one more range of chunks to the extractor.</summary>
    public const string ChunkedRestoreRange = "chunked-restore-range";

    public static void Pass(string name)
    {
        if (Armed is not { } armed || armed.Name != name)
            return;
        if (Interlocked.Increment(ref _passed) >= armed.Count)
            System.Diagnostics.Process.GetCurrentProcess().Kill();
    }

    static (string, int)? Parse(string? value)
    {
        if (string.IsNullOrEmpty(value))
            return null;
        int colon = value.LastIndexOf(':');
        return colon > 0 && int.TryParse(value[(colon + 1)..], out int count) ? (value[..colon], count) : (value, 1);
    }
}
