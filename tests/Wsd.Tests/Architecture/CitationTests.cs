using System.Text.RegularExpressions;
using Wsd.Tests.Support;

namespace Wsd.Tests.Architecture;

/// <summary>
/// Citations point into the repository (docs/architecture.md#citations): no file cites the outside
/// documents the code was first written from, and every <c>docs/&lt;file&gt;.md#&lt;anchor&gt;</c> a
/// file cites names a document and a heading that exist.
/// </summary>
public partial class CitationTests
{
    // Build and run output, tools and dependencies: not the repository's own text.
    static readonly HashSet<string> Skipped = [".git", "bin", "obj", "out", ".tools", "node_modules", ".wsd", ".test-results", "BenchmarkDotNet.Artifacts"];

    // This file spells out what it looks for.
    const string ThisFile = "tests/Wsd.Tests/Architecture/CitationTests.cs";

    [GeneratedRegex(@"REF §|SPEC §|platform[- ]notes|\.\./shared|lessons-from-upstream", RegexOptions.IgnoreCase)]
    private static partial Regex OutsideDocument();

    [GeneratedRegex(@"docs/([\w-]+)\.md(?:#([\w-]+))?")]
    private static partial Regex DocsCitation();

    [GeneratedRegex(@"^#{1,6}\s+(.+?)\s*#*\s*$")]
    private static partial Regex Heading();

    [Fact]
    public void NoFileCitesAnOutsideDocumentOrAMissingDocsSection()
    {
        string root = RepositoryPaths.Root;
        var docs = Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md")
            .ToDictionary(path => Path.GetFileNameWithoutExtension(path), path => Anchors(File.ReadAllText(path)));
        var problems = Files(root)
            .Select(path => (File: Path.GetRelativePath(root, path).Replace('\\', '/'), Path: path))
            .Where(f => f.File != ThisFile && !IsBinary(f.Path))
            .SelectMany(f => Problems(f.File, File.ReadAllText(f.Path), docs))
            .ToList();

        Assert.NotEmpty(docs);
        Assert.True(problems.Count == 0, "citations to fix:\n" + string.Join('\n', problems));
    }

    [Theory]
    [InlineData("// first\n// upstream's texts (REF §2.8)\n", "a.cs:2: cites a document outside the repository (REF §)")]
    [InlineData("/// as SPEC §3 says\n", "a.cs:1: cites a document outside the repository (SPEC §)")]
    [InlineData("see ../shared/reference/x.md\n", "a.cs:1: cites a document outside the repository (../shared)")]
    [InlineData("\n\n// (docs/missing.md#x)\n", "a.cs:3: docs/missing.md does not exist")]
    [InlineData("// (docs/compatibility.md#no-such-heading)\n", "a.cs:1: docs/compatibility.md has no heading #no-such-heading")]
    public void ABadCitationIsFoundWithItsFileAndLine(string text, string problem)
    {
        var docs = new Dictionary<string, HashSet<string>> { ["compatibility"] = Anchors("# Compatibility\n## Session file\n") };

        Assert.Equal([problem], Problems("a.cs", text, docs));
    }

    [Fact]
    public void AGoodCitationIsNoProblem()
    {
        var docs = new Dictionary<string, HashSet<string>> { ["compatibility"] = Anchors("# Compatibility\n## Session file\n") };

        Assert.Empty(Problems("a.cs", "// (docs/compatibility.md#session-file, docs/compatibility.md)\n", docs));
    }

    [Fact]
    public void AnchorsAreTheHeadingsAsGitHubLinksThem()
    {
        const string markdown = "# Top\n## Session file\n### The `.gitpod` directory\n```sh\n# not a heading\n```\ntext # not either\n";

        Assert.Equal(["session-file", "the-gitpod-directory", "top"], Anchors(markdown).Order(StringComparer.Ordinal));
    }

    static IEnumerable<string> Problems(string file, string text, IReadOnlyDictionary<string, HashSet<string>> docs)
    {
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string at = $"{file}:{i + 1}";
            foreach (Match outside in OutsideDocument().Matches(lines[i]))
                yield return $"{at}: cites a document outside the repository ({outside.Value})";
            foreach (Match cited in DocsCitation().Matches(lines[i]))
            {
                string name = cited.Groups[1].Value, anchor = cited.Groups[2].Value;
                if (!docs.TryGetValue(name, out var anchors))
                    yield return $"{at}: docs/{name}.md does not exist";
                else if (anchor.Length > 0 && !anchors.Contains(anchor))
                    yield return $"{at}: docs/{name}.md has no heading #{anchor}";
            }
        }
    }

    /// <summary>The anchors of a Markdown document's headings: lower case, punctuation dropped, spaces as hyphens.</summary>
    static HashSet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        bool inCode = false;
        foreach (string line in markdown.Split('\n'))
        {
            if (line.StartsWith("```", StringComparison.Ordinal))
                inCode = !inCode;
            else if (!inCode && Heading().Match(line) is { Success: true } heading)
                anchors.Add(string.Concat(heading.Groups[1].Value.ToLowerInvariant()
                    .Where(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_')).Replace(' ', '-'));
        }
        return anchors;
    }

    static IEnumerable<string> Files(string directory)
    {
        foreach (string file in Directory.EnumerateFiles(directory))
        {
            if (Path.GetFileName(file) != ".git")
                yield return file;
        }
        foreach (string child in Directory.EnumerateDirectories(directory))
        {
            if (!Skipped.Contains(Path.GetFileName(child)))
            {
                foreach (string file in Files(child))
                    yield return file;
            }
        }
    }

    static bool IsBinary(string path)
    {
        using var stream = File.OpenRead(path);
        var head = new byte[8192];
        int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return Array.IndexOf(head, (byte)0, 0, read) >= 0;
    }
}
