namespace Wsd.ProcessBench;

/// <summary>
/// Replaces a file in one step: written beside it under a temporary name, then renamed over it,
/// so a run that dies while the report is being rewritten leaves the previous report whole.
/// </summary>
static class AtomicFile
{
    public static void WriteAllText(string path, string text)
    {
        string temporary = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            using var writer = new StreamWriter(file);
            writer.Write(text);
            writer.Flush();
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
