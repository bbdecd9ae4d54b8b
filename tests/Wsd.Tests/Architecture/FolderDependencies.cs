using System.Text.RegularExpressions;

namespace Wsd.Tests.Architecture;

/// <summary>
/// The daemon's top folders and the references between them, read from the sources: <c>using Wsd.X</c>
/// lines, <c>Wsd.X.</c> and namespace-relative <c>X.Type</c> references. Comments and string
/// literals are blanked first, and a name the file declares as a member (a property called
/// <c>Content</c>) is not taken for the folder.
/// </summary>
public static partial class FolderDependencies
{
    public sealed record Reference(string From, string To, string File, int Line);

    /// <summary>Where each folder sits: a folder may use those below it; leaves are usable by all and use only leaves.</summary>
    public static readonly IReadOnlyDictionary<string, int> Layer = new Dictionary<string, int>
    {
        ["Program"] = 0,
        ["Cli"] = 1, ["Hosting"] = 1, ["Services"] = 1,
        ["Workspaces"] = 2,
        ["Content"] = 3, ["Storage"] = 3, ["Runtime"] = 3, ["Archive"] = 3,
        ["Linux"] = 4,
        ["Interop"] = 5,
    };

    public static readonly IReadOnlySet<string> Leaves = new HashSet<string> { "Config", "Errors", "Observability" };

    // Adapters reach the machinery through the domain (the RPC services may map the content's value
    // types, such as initializer specs); the domain reaches the kernel through Linux. Cli is exempt:
    // its archive, quota and internal commands are the command-line faces of the layers below.
    static readonly IReadOnlyDictionary<string, string[]> Skips = new Dictionary<string, string[]>
    {
        ["Hosting"] = ["Content", "Storage", "Runtime", "Archive", "Linux", "Interop"],
        ["Services"] = ["Storage", "Runtime", "Archive", "Linux", "Interop"],
        ["Workspaces"] = ["Interop"],
    };

    static IEnumerable<string> Folders => Layer.Keys.Concat(Leaves).Where(f => f != "Program");

    /// <summary>Every reference from one top folder to another in the daemon's sources under <paramref name="root"/>.</summary>
    public static List<Reference> Read(string root) =>
        SourceFiles(root).SelectMany(f => ReadFile(f.Relative, f.Folder, File.ReadAllText(Path.Combine(root, f.Relative)))).ToList();

    /// <summary>The daemon's source files under <paramref name="root"/>, each with its top folder ("Program" for those at the top).</summary>
    public static IEnumerable<(string Relative, string Folder)> SourceFiles(string root)
    {
        foreach (var path in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(root, path);
            string[] parts = relative.Split(Path.DirectorySeparatorChar);
            string from = parts.Length == 1 ? "Program" : parts[0];
            if (from != "Program" && !Folders.Contains(from))
                continue; // tests, bench, generated protos, build output
            if (parts.Contains("obj") || parts.Contains("bin"))
                continue;
            yield return (relative, from);
        }
    }

    public static IEnumerable<Reference> ReadFile(string file, string from, string source)
    {
        string code = Blank(source);
        var members = Folders.Where(f => MemberDeclaration(f).IsMatch(code)).ToHashSet();
        string[] lines = code.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            foreach (var to in Folders.Append("Program"))
            {
                if (to == from)
                    continue;
                bool used = Regex.IsMatch(lines[i], $@"\busing\s+(static\s+)?Wsd\.{to}\b") ||
                    Regex.IsMatch(lines[i], $@"\bWsd\.{to}\.") ||
                    (!members.Contains(to) && Regex.IsMatch(lines[i], $@"(?<![\w.]){to}\.[A-Z]"));
                if (used)
                    yield return new Reference(from, to, file, i + 1);
            }
        }
    }

    /// <summary>Why <paramref name="r"/> breaks the order, or null when it keeps it. Cycles are found separately.</summary>
    public static string? Problem(Reference r)
    {
        bool fromLeaf = Leaves.Contains(r.From), toLeaf = Leaves.Contains(r.To);
        if (toLeaf)
            return null;
        if (fromLeaf)
            return $"{r.From} is a leaf and may use only leaves";
        if (Layer[r.To] < Layer[r.From])
            return $"{r.From} (layer {Layer[r.From]}) may not use {r.To} (layer {Layer[r.To]}) above it";
        if (Skips.TryGetValue(r.From, out var skipped) && skipped.Contains(r.To))
            return $"{r.From} may not reach {r.To} past the layer between them";
        return null;
    }

    /// <summary>The references that close a cycle between folders (both folders in one strongly connected set).</summary>
    public static IEnumerable<Reference> InCycles(IReadOnlyList<Reference> references)
    {
        var graph = references.GroupBy(r => r.From).ToDictionary(g => g.Key, g => g.Select(r => r.To).ToHashSet());
        bool Reaches(string start, string goal)
        {
            var seen = new HashSet<string>();
            var stack = new Stack<string>([start]);
            while (stack.TryPop(out var at))
            {
                if (at == goal)
                    return true;
                if (seen.Add(at) && graph.TryGetValue(at, out var next))
                    foreach (var n in next)
                        stack.Push(n);
            }
            return false;
        }
        return references.Where(r => Reaches(r.To, r.From));
    }

    // Comments and string literals (regular, verbatim, raw and interpolated) blanked, line breaks kept.
    static string Blank(string source) =>
        Literals().Replace(source, m => new string(m.Value.Select(c => c == '\n' ? '\n' : ' ').ToArray()));

    static Regex MemberDeclaration(string name) =>
        new($@"\b(public|internal|private|protected)\b[^;=(\n]*\b{name}\s*(\{{|=>|=|;)");

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/|""""""[\s\S]*?""""""|@""(?:""""|[^""])*""|\$?""(?:\\.|[^""\\\n])*""|'(?:\\.|[^'\\])'", RegexOptions.Singleline)]
    private static partial Regex Literals();
}
