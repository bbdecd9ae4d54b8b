using System.Diagnostics;
using Wsd.Content;
using Wsd.Tests.Support;

namespace Wsd.Tests.Content;

/// <summary>Emptying a workspace's content while its user races the daemon (issue 14, finding 5).</summary>
public sealed class ContentPathsTests : IDisposable
{
    readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void EmptyNeverFollowsADirectorySwappedForASymlink()
    {
        string content = _dir.Combine("content"), canary = _dir.Combine("canary");
        var clock = Stopwatch.StartNew();
        for (int round = 0; round < 30 && clock.Elapsed < TimeSpan.FromSeconds(40); round++)
        {
            Directory.CreateDirectory(content);
            using (new SymlinkSwapAttacker(content, canary))
            {
                for (int attempt = 0; attempt < 5; attempt++)
                {
                    try
                    {
                        ContentPaths.Empty(content);
                        break;
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        // the user refilled a directory faster than it emptied; try again
                    }
                }
            }
            SymlinkSwapAttacker.AssertCanaryUntouched(canary, $"round {round}");
            ContentPaths.Empty(content);
            Assert.Empty(Directory.GetFileSystemEntries(content));
        }
    }
}
