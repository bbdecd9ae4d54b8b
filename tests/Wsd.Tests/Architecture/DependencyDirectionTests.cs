using Wsd.Tests.Support;

namespace Wsd.Tests.Architecture;

/// <summary>
/// Dependencies between the top folders point one way (docs/architecture.md): Program → Cli, Hosting,
/// Services → Workspaces → Content, Storage, Runtime, Archive → Linux → Interop, with Config, Errors
/// and Observability as leaves; no cycles.
/// </summary>
public class DependencyDirectionTests
{
    [Fact]
    public void FoldersDependOnlyDownwardAndWithoutCycles()
    {
        var references = FolderDependencies.Read(RepositoryPaths.Root);
        Assert.NotEmpty(references);

        var wrong = references
            .Select(r => (Reference: r, Problem: FolderDependencies.Problem(r)))
            .Where(p => p.Problem is not null)
            // A wrong-way edge is named once, as such; cycles are looked for among the edges the
            // order allows, which can close one only within a layer (Content and Storage, say).
            .Concat(FolderDependencies.InCycles(references.Where(r => FolderDependencies.Problem(r) is null).ToList())
                .Select(r => (Reference: r, Problem: (string?)$"{r.From} and {r.To} use each other")))
            .ToList();
        var problems = wrong.Select(w => $"{w.Reference.File}:{w.Reference.Line}: {w.Problem}").Distinct().ToList();

        Assert.True(problems.Count == 0, "dependencies against the order:\n" + string.Join('\n', problems));
    }

    [Theory]
    [InlineData("Interop/Extra.cs", "Interop", "using Wsd.Workspaces;\nnamespace Wsd.Interop;\n", 1, "Interop (layer 5) may not use Workspaces (layer 2) above it")]
    [InlineData("Config/Extra.cs", "Config", "namespace Wsd.Config;\nclass X { object Y => Linux.FreeSpace.Format(1); }\n", 2, "Config is a leaf and may use only leaves")]
    [InlineData("Services/Extra.cs", "Services", "namespace Wsd.Services;\nclass X { void Y() => Wsd.Archive.TarFormat.Z(); }\n", 2, "Services may not reach Archive past the layer between them")]
    public void AWrongWayReferenceIsFoundWithItsFileAndLine(string file, string from, string source, int line, string problem)
    {
        var reference = Assert.Single(FolderDependencies.ReadFile(file, from, source));

        Assert.Equal((file, line), (reference.File, reference.Line));
        Assert.Equal(problem, FolderDependencies.Problem(reference));
    }

    [Fact]
    public void CommentsStringsAndMembersOfTheSameNameAreNotReferences()
    {
        const string source = """
            namespace Wsd.Storage;
            // Workspaces.Session is mentioned here only
            class Upload
            {
                public Stream Content => null!;
                string Text => "Linux.FreeSpace";
                void Dispose() => Content.Dispose();
            }
            """;

        Assert.Empty(FolderDependencies.ReadFile("Storage/Upload.cs", "Storage", source));
    }

    [Fact]
    public void ACycleBetweenFoldersOfOneLayerIsFound()
    {
        FolderDependencies.Reference[] references =
        [
            new("Content", "Storage", "Content/A.cs", 1),
            new("Storage", "Content", "Storage/B.cs", 2),
            new("Content", "Archive", "Content/A.cs", 3),
        ];

        Assert.Equal(["Content/A.cs:1", "Storage/B.cs:2"], FolderDependencies.InCycles(references).Select(r => $"{r.File}:{r.Line}"));
    }
}
