using System.Reflection;

namespace Wsd.Observability;

/// <summary>The version this binary was built as, "0.1.0+&lt;commit&gt;" when built from a git checkout.</summary>
public static class BuildInfo
{
    public static string Version { get; } =
        typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static string Commit
    {
        get
        {
            int plus = Version.IndexOf('+');
            return plus < 0 ? "unknown" : Version[(plus + 1)..];
        }
    }
}
