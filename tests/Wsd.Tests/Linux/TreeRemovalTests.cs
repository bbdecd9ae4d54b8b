using System.Diagnostics;
using Wsd.Interop;
using Wsd.Linux;
using Wsd.Tests.Support;

namespace Wsd.Tests.Linux;

/// <summary>
/// Recursive deletion through descriptors on the real file system: every kind of entry, trees deeper
/// than the descriptors it keeps open, directories too wide to list at once, and mounts it must not
/// empty. The race against a concurrent attacker is in <see cref="Content.ContentPathsTests"/>.
/// </summary>
public sealed class TreeRemovalTests : IDisposable
{
    readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void RemovesFilesDirectoriesSymlinksAndFifosButNotWhatSymlinksPointTo()
    {
        string outside = _dir.Combine("outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "canary"), "untouched");
        string tree = _dir.Combine("tree");
        Directory.CreateDirectory(Path.Combine(tree, "a", "b", "c"));
        File.WriteAllText(Path.Combine(tree, "a", "b", "c", "file"), "x");
        File.CreateSymbolicLink(Path.Combine(tree, "a", "to-outside"), outside);
        File.CreateSymbolicLink(Path.Combine(tree, "a", "b", "dangling"), "/nonexistent");
        Tools.Ok("mkfifo", "/", Path.Combine(tree, "a", "fifo"));
        File.WriteAllText(Path.Combine(tree, "top"), "y");

        TreeRemoval.Remove(tree);

        Assert.False(Path.Exists(tree));
        Assert.Equal("untouched", File.ReadAllText(Path.Combine(outside, "canary")));
        TreeRemoval.Remove(tree); // nothing there: nothing to do
    }

    [Fact]
    public void RemovesATreeDeeperThanTheDescriptorsItKeepsOpen()
    {
        string tree = _dir.Combine("deep");
        int depth = TreeRemoval.MaxDepth * 20;
        // Relative mkdirs from inside, as a user would: the path as a whole outgrows PATH_MAX.
        Tools.Ok("sh", _dir.Path, "-c", $"mkdir deep && cd deep && i=0; while [ $i -lt {depth} ]; do mkdir dddddddddddddddddddd && cd dddddddddddddddddddd && echo x > f; i=$((i+1)); done");

        TreeRemoval.Remove(tree);

        Assert.False(Path.Exists(tree));
    }

    [Fact]
    public void RemovesADirectoryOfManyEntriesWithMemoryIndependentOfItsSize()
    {
        string tree = _dir.Combine("wide");
        Directory.CreateDirectory(tree);
        for (int i = 0; i < 20_000; i++)
            File.WriteAllBytes(Path.Combine(tree, $"file-with-a-long-name-{i:D8}"), []);
        GC.Collect();
        long before = GC.GetAllocatedBytesForCurrentThread();

        TreeRemoval.Remove(tree);

        // Nothing per entry: the names stream through one buffer (a string per name would be > 1 MiB).
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 256 * 1024);
        Assert.False(Path.Exists(tree));
    }

    [Fact]
    public void DoesNotEmptyAFileSystemMountedInsideTheTree()
    {
        Tools.RequireRoot("mounting a tmpfs needs root");
        string tree = _dir.Combine("tree");
        string mountPoint = Path.Combine(tree, "sub", "mnt");
        Directory.CreateDirectory(mountPoint);
        MountCalls.MountFs("tmpfs", mountPoint, "tmpfs", 0, "size=64k");
        try
        {
            File.WriteAllText(Path.Combine(mountPoint, "kept"), "mounted");

            var e = Assert.Throws<SyscallException>(() => TreeRemoval.Remove(tree));

            // rmdir says EBUSY for a mount point of this namespace; one it cannot see is refused with EXDEV.
            Assert.Contains(e.Errno, (int[])[16, Errno.EXDEV]);
            Assert.Equal("mounted", File.ReadAllText(Path.Combine(mountPoint, "kept")));
        }
        finally
        {
            MountCalls.TryUnmount(mountPoint, MountCalls.Detach);
        }
    }

    [Fact]
    public void RemoveContentsLeavesTheDirectoryItself()
    {
        string tree = _dir.Combine("kept");
        Directory.CreateDirectory(Path.Combine(tree, "x", "y"));
        File.WriteAllText(Path.Combine(tree, "x", "y", "z"), "");
        int fd = Directories.Open(tree);
        try
        {
            TreeRemoval.RemoveContents(fd, tree);
        }
        finally
        {
            Libc.Close(fd);
        }

        Assert.True(Directory.Exists(tree));
        Assert.Empty(Directory.GetFileSystemEntries(tree));
    }
}
