using Wsd.Tests.Support;

namespace Wsd.Tests.Architecture;

/// <summary>
/// errno is read in Interop only (issue 16): everything above it gets the errno from
/// <c>Errno.Last</c>, a <c>SyscallException</c> or a call that returns it, so there is one place
/// that knows how the runtime keeps it.
/// </summary>
public class ErrnoTests
{
    [Fact]
    public void NoFileOutsideInteropReadsTheLastErrorItself()
    {
        string[] readers = ["GetLastPInvokeError", "GetLastWin32Error"];
        var found = FolderDependencies.SourceFiles(RepositoryPaths.Root)
            .Where(f => f.Folder != "Interop")
            .SelectMany(f => File.ReadLines(Path.Combine(RepositoryPaths.Root, f.Relative))
                .Select((text, index) => (f.Relative, Line: index + 1, text)))
            .Where(l => readers.Any(l.text.Contains))
            .Select(l => $"{l.Relative}:{l.Line}: {l.text.Trim()}")
            .ToList();

        Assert.True(found.Count == 0, "the last error read outside Interop (use Errno.Last):\n" + string.Join('\n', found));
    }
}
