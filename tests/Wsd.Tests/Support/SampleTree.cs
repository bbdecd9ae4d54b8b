using System.Net.Sockets;
using System.Text;

namespace Wsd.Tests.Support;

/// <summary>A tree with every kind of entry an archive must carry, made with the real tools.</summary>
public static class SampleTree
{
    public const string LongComponent =
        "a-very-long-directory-name-that-goes-on-and-on-well-past-the-hundred-bytes-a-ustar-name-field-holds-and-then-some-more-to-be-sure";

    /// <summary>
    /// Creates the tree under <paramref name="root"/>; devices, owners and capabilities only when root.
    /// Dispose the result after the test: it holds the socket in the tree (.NET unlinks a bound
    /// socket's file when the socket is disposed).
    /// </summary>
    public static IDisposable Create(string root, bool withDevices = true)
    {
        bool isRoot = Wsd.Interop.Libc.GetEuid() == 0;
        Directory.CreateDirectory(root);
        Write(root, "empty", []);
        Write(root, "one-byte", "x"u8.ToArray());
        Write(root, "block-511", Pattern(511));
        Write(root, "block-512", Pattern(512));
        Write(root, "block-513", Pattern(513));
        Write(root, "src/lib/big.bin", Pattern((1 << 20) * 3 + 7));
        Write(root, "src/lib/code.cs", Encoding.UTF8.GetBytes("class C { }\n"));
        Write(root, "src/ünïcødé ñame.txt", "unicode\n"u8.ToArray());
        Write(root, $"deep/{LongComponent}/{LongComponent}/file-with-a-long-path.txt", "deep\n"u8.ToArray());
        Write(root, "links/target.txt", "target\n"u8.ToArray());
        File.CreateSymbolicLink(Path.Combine(root, "links/relative"), "target.txt");
        File.CreateSymbolicLink(Path.Combine(root, "links/absolute"), "/etc/hostname");
        File.CreateSymbolicLink(Path.Combine(root, "links/dangling"), "../nowhere/at/all");
        File.CreateSymbolicLink(Path.Combine(root, "links/long"), string.Join('/', Enumerable.Repeat(LongComponent, 3)));
        Tools.Ok("ln", root, "links/target.txt", "links/hard-1");
        Tools.Ok("ln", root, "links/target.txt", "src/hard-2");
        Tools.Ok("mkfifo", root, "links/fifo");
        Directory.CreateDirectory(Path.Combine(root, "empty-dir"));

        Write(root, "modes/setuid", "s\n"u8.ToArray());
        Write(root, "modes/setgid", "g\n"u8.ToArray());
        Directory.CreateDirectory(Path.Combine(root, "modes/sticky"));
        Write(root, "modes/read-only-dir/inside.txt", "inside\n"u8.ToArray());
        Tools.Ok("chmod", root, "4755", "modes/setuid");
        Tools.Ok("chmod", root, "2750", "modes/setgid");
        Tools.Ok("chmod", root, "1777", "modes/sticky");
        Tools.Ok("chmod", root, "0444", "modes/read-only-dir/inside.txt");
        Tools.Ok("chmod", root, "0555", "modes/read-only-dir");

        // A socket: archives skip it.
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(Path.Combine(root, "links/socket")));

        if (Tools.Exists("setfattr"))
        {
            Tools.Ok("setfattr", root, "-n", "user.comment", "-v", "hello xattr", "src/lib/code.cs");
            Tools.Ok("setfattr", root, "-n", "user.binary", "-v", "0x00ff10", "src/lib/code.cs");
            Tools.Ok("setfattr", root, "-n", "user.dir", "-v", "on a directory", "src");
            if (isRoot)
            {
                // cap_net_bind_service=ep as a v2 capability blob.
                Tools.Ok("setfattr", root, "-n", "security.capability", "-v",
                    "0x0100000200040000000000000000000000000000", "modes/setuid");
            }
        }

        if (isRoot)
        {
            if (withDevices)
            {
                Directory.CreateDirectory(Path.Combine(root, "devices"));
                Tools.Ok("mknod", root, "devices/null", "c", "1", "3");
                Tools.Ok("mknod", root, "devices/loop", "b", "7", "200");
            }
            Tools.Ok("chown", root, "133332:133332", "src/lib/code.cs");
            Tools.Ok("chown", "/", "-h", "33333:33333", Path.Combine(root, "links/relative"));
            Tools.Ok("chown", root, "100000:100001", "block-512");
        }

        // Nanosecond mtimes, set last (children change their directory's mtime).
        foreach (var entry in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).OrderByDescending(p => p.Length))
            Tools.Ok("touch", "/", "-h", "-d", "2024-02-29 12:34:56.123456789", entry);
        return socket;
    }

    static void Write(string root, string relative, byte[] content)
    {
        string path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
    }

    public static byte[] Pattern(int length)
    {
        var data = new byte[length];
        for (int i = 0; i < length; i++)
            data[i] = (byte)(i * 31 + (i >> 9));
        return data;
    }
}
