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

    [Fact]
    public void TryOpenDirectoryOpensAndMakesDirectoriesBeneathTheRoot()
    {
        Libc.Close(OpenDirectory("a/b"u8, null));
        Libc.Close(OpenDirectory(""u8, null));
        Libc.Close(OpenDirectory("made/on/demand"u8, 0x1C0));

        Assert.True(Directory.Exists(_dir.Combine("root", "made", "on", "demand")));
        Assert.Equal((UnixFileMode)0x1C0, File.GetUnixFileMode(_dir.Combine("root", "made", "on")));
    }

    [Theory]
    [InlineData("missing", false, "openat2", Errno.ENOENT)]
    [InlineData("a/link", false, "openat2", Errno.ELOOP)]
    [InlineData("a/link/x", true, "openat2", Errno.ELOOP)] // nothing is made when a symlink is on the way
    [InlineData("relative/b", true, "openat2", Errno.ELOOP)]
    [InlineData("../outside", true, "openat2", Errno.EXDEV)]
    [InlineData("new/../b", true, "openat", Errno.EXDEV)] // the walk refuses ".." before it makes "new"
    [InlineData("long/{256 bytes}", true, "openat", Errno.ENAMETOOLONG)] // refused as the kernel refuses it
    public void TryOpenDirectorySaysWhichCallRefusedAndWhy(string path, bool create, string call, int errno)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(path.Replace("{256 bytes}", new string('n', 256)));

        int fd = BeneathRoot.TryOpenDirectory(_root, bytes, create ? 0x1EDu : null, out var failure);

        Assert.Equal((-1, call, errno), (fd, failure.Call, failure.Errno));
        Assert.Empty(Directory.GetFileSystemEntries(_dir.Combine("outside")));
        Assert.False(Directory.Exists(_dir.Combine("root", "new")));
    }

    [Fact]
    public unsafe void TryOpenDirectoryNeverMakesADirectoryThroughADirectorySwappedForASymlink()
    {
        // The user exchanges the directory victim with a symlink to a canary outside, atomically and
        // as fast as it can, so the name is always there as one or the other: a walk that followed
        // the symlink after openat2 found victim/inner/made-N missing would make made-N in the canary.
        string tree = _dir.Combine("tree"), canary = _dir.Combine("canary");
        Directory.CreateDirectory(Path.Combine(tree, "victim", "inner"));
        Directory.CreateDirectory(Path.Combine(canary, "inner"));
        File.CreateSymbolicLink(Path.Combine(tree, "swap"), canary);
        int treeFd = Directories.Open(tree);
        using var stop = new CancellationTokenSource();
        var attacker = new Thread(() =>
        {
            fixed (byte* victim = "victim\0"u8)
            fixed (byte* swap = "swap\0"u8)
            {
                while (!stop.IsCancellationRequested)
                    Renames.RenameAt2(treeFd, victim, treeFd, swap, RenameExchange);
            }
        });
        int made = 0, refused = 0;
        attacker.Start();
        try
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; clock.Elapsed < TimeSpan.FromSeconds(2); i++)
            {
                byte[] path = System.Text.Encoding.UTF8.GetBytes($"victim/inner/made-{i}");
                int fd = BeneathRoot.TryOpenDirectory(treeFd, path, 0x1ED, out var failure);
                if (fd >= 0)
                {
                    made++;
                    Libc.Close(fd);
                    continue;
                }
                refused++;
                Assert.Contains(failure.Errno, (int[])[Errno.ELOOP, Errno.ENOTDIR]); // openat2 met the symlink, or a step of the walk did
            }
        }
        finally
        {
            stop.Cancel();
            attacker.Join();
            Libc.Close(treeFd);
        }

        Assert.True(Directory.GetFileSystemEntries(Path.Combine(canary, "inner")).Length == 0,
            $"a directory was made in the canary ({made} made beneath the root, {refused} refused)");
        Assert.True(made > 0, $"none of {refused} attempts found victim a directory");
    }

    /// <summary>RENAME_EXCHANGE: the two names swap what they hold, atomically.</summary>
    const uint RenameExchange = 2;

    [Fact]
    public unsafe void TryOpenEntryNeverFollowsASymlinkAtTheName()
    {
        int a = Directories.Open(_dir.Combine("root", "a"));
        try
        {
            fixed (byte* link = "link\0"u8)
            fixed (byte* b = "b\0"u8)
            {
                Assert.Equal((-1, Errno.ENOTDIR), Entry(a, link, OpenFlags.ReadOnly | OpenFlags.Directory));
                Assert.Equal((-1, Errno.ELOOP), Entry(a, link, OpenFlags.ReadOnly));

                int symlink = BeneathRoot.TryOpenEntry(a, link, OpenFlags.Path, out _);
                var stat = new StatxBuffer();
                Assert.Equal(0, Libc.StatxFd(symlink, &stat));
                Libc.Close(symlink);
                Assert.Equal(StatMode.Symlink, stat.FileType); // O_PATH: the symlink itself, not what it points to

                int directory = BeneathRoot.TryOpenEntry(a, b, OpenFlags.ReadOnly | OpenFlags.Directory, out int errno);
                Assert.Equal(_dir.Combine("root", "a", "b"), PathOf(directory));
                Libc.Close(directory);
                Assert.Equal(0, errno);
            }
        }
        finally
        {
            Libc.Close(a);
        }
    }

    [Fact]
    public void OpenInRootResolvesAbsoluteSymlinksAndDotDotInsideTheRoot()
    {
        File.CreateSymbolicLink(_dir.Combine("root", "absolute"), "/a");

        int viaSymlink = BeneathRoot.OpenInRoot(_root, "absolute/b", OpenFlags.ReadOnly | OpenFlags.Directory, noSymlinks: false, "/absolute/b");
        int viaDotDot = BeneathRoot.OpenInRoot(_root, "../../a", OpenFlags.ReadOnly | OpenFlags.Directory, noSymlinks: false, "/../../a");
        var refused = Assert.Throws<SyscallException>(() =>
            BeneathRoot.OpenInRoot(_root, "absolute/b", OpenFlags.ReadOnly | OpenFlags.Directory, noSymlinks: true, "/absolute/b in the box"));

        Assert.Equal(_dir.Combine("root", "a", "b"), PathOf(viaSymlink));
        Assert.Equal(_dir.Combine("root", "a"), PathOf(viaDotDot));
        Libc.Close(viaSymlink);
        Libc.Close(viaDotDot);
        Assert.Equal(Errno.ELOOP, refused.Errno);
        Assert.StartsWith("openat2(/absolute/b in the box): ", refused.Message);
    }

    [Fact]
    public void OpenNamesThePathItIsToldToInItsErrors()
    {
        var e = Assert.Throws<SyscallException>(() => BeneathRoot.Open(_root, "a/link", OpenFlags.ReadOnly, "/shown"));

        Assert.StartsWith("openat2(/shown): ", e.Message);
    }

    int OpenDirectory(ReadOnlySpan<byte> path, uint? createMode)
    {
        int fd = BeneathRoot.TryOpenDirectory(_root, path, createMode, out var failure);
        Assert.True(fd >= 0, $"{failure.Call}: errno {failure.Errno}");
        return fd;
    }

    static unsafe (int Fd, int Errno) Entry(int directoryFd, byte* name, int flags)
    {
        int fd = BeneathRoot.TryOpenEntry(directoryFd, name, flags, out int errno);
        return (fd, errno);
    }

    static string? PathOf(int fd) => new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
}
