using System.Security.Cryptography;
using System.Text;
using Wsd.Interop;

namespace Wsd.Tests.Support;

/// <summary>
/// Everything about a directory tree that an archive round trip must keep, as comparable text:
/// one line per entry with type, mode, owner, size, mtime to the nanosecond, link target, content
/// digest, xattrs and device numbers; hardlinks as "same inode as".
/// </summary>
public static unsafe class TreeSnapshot
{
    public static string Of(string root, bool owners = true, bool directoryTimes = true)
    {
        var lines = new List<string>();
        var firstPathOfInode = new Dictionary<ulong, string>();
        foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                     .Order(StringComparer.Ordinal))
        {
            string relative = Path.GetRelativePath(root, path);
            var st = Stat(path);
            uint type = st.FileType;
            var line = new StringBuilder();
            line.Append(relative).Append(' ').Append(TypeName(type)).Append($" mode={st.Mode & 0xFFF:x}");
            if (owners)
                line.Append($" owner={st.Uid}:{st.Gid}");
            if (type != StatMode.Directory || directoryTimes)
                line.Append($" mtime={st.MtimeSeconds}.{st.MtimeNanoseconds:D9}");
            switch (type)
            {
                case StatMode.Regular:
                    if (st.Nlink > 1 && firstPathOfInode.TryGetValue(st.Ino, out var first))
                    {
                        line.Append(" hardlink-of=").Append(first);
                        break;
                    }
                    firstPathOfInode[st.Ino] = relative;
                    line.Append($" size={st.Size} sha256={Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)))}");
                    line.Append(Xattrs(path));
                    break;
                case StatMode.Symlink:
                    line.Append(" -> ").Append(new FileInfo(path).LinkTarget);
                    break;
                case StatMode.Directory:
                    line.Append(Xattrs(path));
                    break;
                case StatMode.CharDevice or StatMode.BlockDevice:
                    line.Append($" dev={st.RdevMajor}:{st.RdevMinor}");
                    break;
            }
            lines.Add(line.ToString());
        }
        return string.Join('\n', lines);
    }

    public static StatxBuffer Stat(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        StatxBuffer st;
        fixed (byte* p = bytes)
        {
            if (Libc.Statx(AtFlags.CurrentDirectory, p, AtFlags.SymlinkNoFollow, StatxMask.BasicStats, &st) != 0)
                throw SyscallException.FromLastError("statx", path);
        }
        return st;
    }

    static string TypeName(uint type) => type switch
    {
        StatMode.Regular => "file",
        StatMode.Directory => "dir",
        StatMode.Symlink => "symlink",
        StatMode.Fifo => "fifo",
        StatMode.CharDevice => "chardev",
        StatMode.BlockDevice => "blockdev",
        StatMode.Socket => "socket",
        _ => "other",
    };

    static string Xattrs(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* p = bytes)
            fd = Libc.OpenAt(AtFlags.CurrentDirectory, p, OpenFlags.ReadOnly | OpenFlags.NoFollow | OpenFlags.NonBlock | OpenFlags.CloseOnExec, 0);
        if (fd < 0)
            return "";
        try
        {
            var names = new byte[65536];
            nint length;
            fixed (byte* n = names)
                length = Libc.FListXattr(fd, n, names.Length);
            if (length <= 0)
                return "";
            var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var name in Encoding.UTF8.GetString(names, 0, (int)length).Split('\0', StringSplitOptions.RemoveEmptyEntries))
            {
                if (!name.StartsWith("user.", StringComparison.Ordinal) && name != "security.capability")
                    continue;
                var value = new byte[65536];
                var nameBytes = Encoding.UTF8.GetBytes(name + "\0");
                nint size;
                fixed (byte* n = nameBytes)
                fixed (byte* v = value)
                    size = Libc.FGetXattr(fd, n, v, value.Length);
                result[name] = Convert.ToHexStringLower(value, 0, (int)size);
            }
            return string.Concat(result.Select(kv => $" xattr:{kv.Key}={kv.Value}"));
        }
        finally
        {
            Libc.Close(fd);
        }
    }
}
