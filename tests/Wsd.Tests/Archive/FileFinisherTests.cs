using Wsd.Archive;
using Wsd.Interop;
using Wsd.Tests.Support;

namespace Wsd.Tests.Archive;

public class FileFinisherTests
{
    const int BadDescriptor = 9; // EBADF

    [Fact]
    public void AFailedCallIsReportedWithItsOwnErrnoNotOneTheErrorsPathLookupLeft()
    {
        using var dir = new TempDirectory();
        string file = dir.Combine("restored");
        File.WriteAllText(file, "x");
        // fchmod on an O_PATH descriptor fails with EBADF, while the error's name, read through
        // /proc/self/fd, is found: that lookup must not replace the errno.
        int fd = Directories.OpenPath(file);
        using var finisher = new FileFinisher(xattrs: false);
        finisher.Enqueue(new FileFinisher.Job(fd, Chown: false, 0, 0, Mode: 0x1A4, 0, 0, Xattrs: null));

        var error = Assert.Throws<SyscallException>(finisher.Complete);

        Assert.Equal("fchmod", error.Call);
        Assert.Equal(BadDescriptor, error.Errno);
        Assert.Equal(file, error.PathName);
    }
}
