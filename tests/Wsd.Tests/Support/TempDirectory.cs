namespace Wsd.Tests.Support;

/// <summary>A directory of its own for one test, removed afterwards.</summary>
public sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Create();

    // 0755, not 0700: the daemon runs git as the workspace user, who must reach the test's repositories.
    static string Create()
    {
        string path = Directory.CreateTempSubdirectory("wsd-test-").FullName;
        File.SetUnixFileMode(path, (UnixFileMode)0x1ED);
        return path;
    }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
