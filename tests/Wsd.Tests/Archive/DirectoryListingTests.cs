using System.Runtime.InteropServices;
using System.Text;
using Wsd.Archive;
using Wsd.Interop;
using Wsd.Tests.Support;

namespace Wsd.Tests.Archive;

/// <summary>
/// A directory's names come out in bytewise order whatever its size (finding 3): a large one goes
/// through sorted runs in a spill file and a merge, within the run's memory budget.
/// </summary>
public unsafe class DirectoryListingTests
{
    static List<string> MakeNames(string directory, int count)
    {
        var random = new Random(7);
        var names = new HashSet<string>();
        while (names.Count < count)
            names.Add(random.Next(4) switch
            {
                0 => $"f{random.Next(1_000_000)}",
                1 => $"é-{random.Next(1_000_000)}.txt", // bytes above 0x7F sort after ASCII
                2 => $"A{random.Next(1_000_000)}",
                _ => new string('x', random.Next(1, 200)) + random.Next(1000),
            });
        Directory.CreateDirectory(directory);
        foreach (var name in names)
            File.WriteAllBytes(Path.Combine(directory, name), []);
        return [.. names.Select(Encoding.UTF8.GetBytes).Order(Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b))).Select(Encoding.UTF8.GetString)];
    }

    static List<string> List(DirectoryListing listing, string directory)
    {
        int fd = Directories.Open(directory);
        byte* dents = (byte*)NativeMemory.Alloc(4096);
        try
        {
            listing.Load(fd, dents, 4096, Encoding.UTF8.GetBytes(directory));
            var names = new List<string>();
            while (listing.MoveNext())
            {
                Assert.Equal(0, listing.NameWithNul()[^1]);
                Assert.Equal(DirectoryListing.TypeRegular, listing.Type);
                names.Add(Encoding.UTF8.GetString(listing.Name()));
            }
            return names;
        }
        finally
        {
            NativeMemory.Free(dents);
            Libc.Close(fd);
        }
    }

    [Fact]
    public void ASmallDirectoryIsSortedInMemory()
    {
        using var dir = new TempDirectory();
        var expected = MakeNames(dir.Combine("d"), 300);
        var memory = new ListingMemory(dir.Path, 8 << 20);
        using var listing = new DirectoryListing(memory);

        Assert.Equal(expected, List(listing, dir.Combine("d")));
        Assert.False(listing.Spilled);
    }

    [Fact]
    public void ADirectoryBeyondTheBudgetSpillsInRunsAndComesBackInBytewiseOrder()
    {
        using var dir = new TempDirectory();
        // With no budget a batch holds at most 64 names: about a hundred runs, merged in two levels.
        var expected = MakeNames(dir.Combine("d"), 6000);
        var memory = new ListingMemory(dir.Path, 0);
        using var listing = new DirectoryListing(memory);

        Assert.Equal(expected, List(listing, dir.Combine("d")));
        Assert.True(listing.Spilled);
        Assert.Equal([dir.Combine("d")], Directory.GetFileSystemEntries(dir.Path)); // the spill file never had a name
    }

    [Fact]
    public void AListingReusedForTheNextDirectoryForgetsTheLastAndGivesItsMemoryBack()
    {
        using var dir = new TempDirectory();
        var large = MakeNames(dir.Combine("large"), 40_000);
        var small = MakeNames(dir.Combine("small"), 10);
        var memory = new ListingMemory(dir.Path, 1 << 20);
        using var listing = new DirectoryListing(memory);

        Assert.Equal(large, List(listing, dir.Combine("large")));
        Assert.True(listing.Spilled);
        Assert.Equal(0, memory.Held);
        Assert.Equal(small, List(listing, dir.Combine("small")));
        Assert.False(listing.Spilled);
    }

    [Fact]
    public void AnArchiveMadeThroughTheSpillIsTheSameByteForByte()
    {
        using var dir = new TempDirectory();
        using var tree = SampleTree.Create(dir.Combine("src"));
        MakeNames(dir.Combine("src/many"), 3000);

        byte[] Archive(long budget)
        {
            using var output = new MemoryStream();
            ArchiveWriter.Write(dir.Combine("src"), output, new ArchiveWriteOptions { ListingMemoryBytes = budget, SpillDirectory = dir.Path });
            return output.ToArray();
        }

        Assert.Equal(Archive(8 << 20), Archive(0));
    }
}
