namespace Wsd.Tests.Support;

/// <summary>Where the repository and the published AOT binary are, seen from the test assembly.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The AOT binary end-to-end tests run: $WSD_BINARY, else out/wsd as <c>./build.sh build</c> leaves it.</summary>
    public static string DaemonBinary
    {
        get
        {
            string path = Environment.GetEnvironmentVariable("WSD_BINARY") ?? Path.Combine(Root, "out", "wsd");
            if (!File.Exists(path))
                throw new InvalidOperationException($"the AOT binary {path} is missing: run ./build.sh build (or ./build.sh test) first");
            return path;
        }
    }

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "wsd-aot.csproj")))
                return dir.FullName;
        }
        throw new InvalidOperationException("cannot find the repository root (wsd-aot.csproj) above " + AppContext.BaseDirectory);
    }
}
