using System.Diagnostics;
using Wsd.Interop;
using Wsd.Linux;
using Wsd.Tests.Support;

namespace Wsd.Tests.Linux;

/// <summary>Opening and creating paths beneath a trusted directory: no symlink and no ".." leads out, no FIFO blocks.</summary>
public sealed class BeneathRootTests : IDisposable
{
    readonly TempDirectory _dir = new();
    readonly int _root;

    public BeneathRootTests()
    {
        Directory.CreateDirectory(_dir.Combine("root", "a", "b"));
        Directory.CreateDirectory(_dir.Combine("outside"));
        File.CreateSymbolicLink(_dir.Combine("root", "a", "link"), _dir.Combine("outside"));
        File.CreateSymbolicLink(_dir.Combine("root", "relative"), "a");
        _root = Directories.Open(_dir.Combine("root"));
    }

    public void Dispose()
    {
        Libc.Close(_root);
        _dir.Dispose();
    }

    public static TheoryData<bool> Walks => [false, true];

    int Open(bool walk, string path, int flags) =>
        walk ? BeneathRoot.OpenByWalk(_root, path, flags) : BeneathRoot.Open(_root, path, flags);

    [Theory]
    [MemberData(nameof(Walks))]
    public void OpensPathsBeneathTheRoot(bool walk)
    {
        Libc.Close(Open(walk, "a/b", OpenFlags.ReadOnly | OpenFlags.Directory));
        Libc.Close(Open(walk, "./a//b/", OpenFlags.ReadOnly | OpenFlags.Directory));
        Libc.Close(Open(walk, "", OpenFlags.ReadOnly | OpenFlags.Directory));
    }

    [Theory]
    [InlineData(false, "a/link", Errno.ELOOP)]
    [InlineData(false, "a/link/x", Errno.ELOOP)]
    [InlineData(false, "relative/b", Errno.ELOOP)] // even a symlink that stays inside
    [InlineData(false, "../outside", Errno.EXDEV)]
    [InlineData(false, "a/../../outside", Errno.EXDEV)]
    [InlineData(true, "a/link", Errno.ENOTDIR)] // O_DIRECTORY|O_NOFOLLOW on a symlink
    [InlineData(true, "a/link/x", Errno.ENOTDIR)]
    [InlineData(true, "relative/b", Errno.ENOTDIR)]
    [InlineData(true, "a/../b", Errno.EXDEV)]
    public void RefusesSymlinksAndEscapes(bool walk, string path, int errno)
    {
        var e = Assert.Throws<SyscallException>(() => Open(walk, path, OpenFlags.ReadOnly | OpenFlags.Directory));

        Assert.Equal(errno, e.Errno);
        Assert.Contains($"errno {errno}", e.Message);
    }

    [Fact]
    public void CreatesMissingDirectoriesAndStopsAtASymlink()
    {
        Libc.Close(BeneathRoot.CreateDirectories(_root, "a/b/c/d", 0x1ED, 0, 0));
        Assert.True(Directory.Exists(_dir.Combine("root", "a", "b", "c", "d")));

        var e = Assert.Throws<SyscallException>(() => BeneathRoot.CreateDirectories(_root, "a/link/made", 0x1ED, 0, 0));

        Assert.Equal(Errno.ENOTDIR, e.Errno); // O_DIRECTORY|O_NOFOLLOW on a symlink
        Assert.Empty(Directory.GetFileSystemEntries(_dir.Combine("outside")));
    }

    [Fact]
    public void OpensAFifoLeafWithoutBlockingAndSaysWhatItIs()
    {
        Tools.Ok("mkfifo", "/", _dir.Combine("root", "a", "fifo"));
        File.WriteAllText(_dir.Combine("root", "a", "file"), "12345");
        int a = BeneathRoot.Open(_root, "a", OpenFlags.ReadOnly | OpenFlags.Directory);
        try
        {
            var clock = Stopwatch.StartNew();
            var fifo = BeneathRoot.OpenLeaf(a, "fifo", OpenFlags.ReadOnly);
            Libc.Close(fifo.Fd);
            var file = BeneathRoot.OpenLeaf(a, "file", OpenFlags.ReadOnly);
            Libc.Close(file.Fd);
            var link = Assert.Throws<SyscallException>(() => BeneathRoot.OpenLeaf(a, "link", OpenFlags.ReadOnly));

            Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
            Assert.Equal((StatMode.Fifo, false), (fifo.FileType, fifo.IsRegular));
            Assert.Equal((StatMode.Regular, 5L), (file.FileType, file.Size));
            Assert.Equal(Errno.ELOOP, link.Errno);
        }
        finally
        {
            Libc.Close(a);
        }
    }
}
