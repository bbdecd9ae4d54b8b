using System.Text.Json.Nodes;
using Wsd.Config;
using Wsd.Tests.Support;

namespace Wsd.Tests.Config;

/// <summary>The README's configuration reference names every key the daemon reads.</summary>
public class DocumentationTests
{
    static IEnumerable<string> Keys(JsonNode? node, string path) => node switch
    {
        JsonObject o when o.Count > 0 => o.SelectMany(p => Keys(p.Value, path.Length == 0 ? p.Key : $"{path}.{p.Key}")).Prepend(path),
        _ => [path],
    };

    [Fact]
    public void EveryConfigurationKeyIsInTheReadme()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "README.md"));
        var keys = Keys(JsonNode.Parse(ConfigLoader.DefaultJson()), "").Where(k => k.Length > 0).ToList();
        // A row of a reference table: "| `key` |", or one of several keys in a row's first cell.
        bool Documented(string key) => readme.Contains($"| `{key}` |", StringComparison.Ordinal)
            || readme.Contains($"| `{key}`, ", StringComparison.Ordinal) || readme.Contains($", `{key}` |", StringComparison.Ordinal);

        // A key is documented by its own row or by the row of the object it belongs to.
        var missing = keys.Where(k => !Documented(k) && !Ancestors(k).Any(Documented) && !keys.Any(child => child.StartsWith(k + ".", StringComparison.Ordinal))).ToList();

        Assert.Empty(missing);
    }

    static IEnumerable<string> Ancestors(string key)
    {
        for (int dot = key.LastIndexOf('.'); dot > 0; dot = key.LastIndexOf('.', dot - 1))
            yield return key[..dot];
    }
}
