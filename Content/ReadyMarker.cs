using System.Text.Json;
using System.Text.Json.Serialization;
using Wsd.Interop;
using Wsd.Linux;

namespace Wsd.Content;

/// <summary>Where a workspace's content came from (docs/compatibility.md#content-initialization).</summary>
public static class InitSource
{
    public const string FromBackup = "from-backup";
    public const string FromPrebuild = "from-prebuild";
    public const string FromOther = "from-other";
}

/// <summary>One initializer's cost, reported in the ready marker (docs/compatibility.md#ready-marker).</summary>
public sealed record InitMetric(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("duration")] long DurationNanoseconds,
    [property: JsonPropertyName("size")] ulong Size);

public sealed record InitOutcome(
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("metrics")] List<InitMetric>? Metrics);

[JsonSerializable(typeof(InitOutcome))]
internal sealed partial class ReadyMarkerJsonContext : JsonSerializerContext;

/// <summary>
/// <c>.gitpod/ready</c> (docs/compatibility.md#ready-marker), and the rule that <c>.gitpod</c> is a
/// directory (docs/compatibility.md#the-gitpod-directory). The content directory belongs to the
/// workspace, so every step goes through directory descriptors with O_NOFOLLOW: a planted symlink named
/// .gitpod cannot make the root daemon write elsewhere. The marker is written to ready.tmp and renamed,
/// the signal consumers wait for.
/// </summary>
public static unsafe class ReadyMarker
{
    public const string RelativePath = ".gitpod/ready";

    public static void Write(string contentDirectory, InitOutcome outcome, uint uid, uint gid)
    {
        int content = Directories.Open(contentDirectory);
        try
        {
            MakeGitpodADirectory(content, contentDirectory);
            int directory;
            fixed (byte* gitpod = ".gitpod\0"u8)
            {
                if (Libc.MkdirAt(content, gitpod, 0x1ED) != 0 && Errno.Last != Errno.EEXIST)
                    throw SyscallException.FromLastError("mkdirat", contentDirectory + "/.gitpod");
                directory = BeneathRoot.TryOpenEntry(content, gitpod, OpenFlags.ReadOnly | OpenFlags.Directory, out int errno);
                if (directory < 0)
                    throw new SyscallException("open", ".gitpod", errno);
            }
            try
            {
                Chown(directory, uid, gid);
                byte[] json = JsonSerializer.SerializeToUtf8Bytes(outcome, ReadyMarkerJsonContext.Default.InitOutcome);
                fixed (byte* temporary = "ready.tmp\0"u8)
                fixed (byte* final = "ready\0"u8)
                fixed (byte* data = json)
                {
                    Libc.UnlinkAt(directory, temporary, 0);
                    int fd = Libc.OpenAt(directory, temporary, OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoFollow | OpenFlags.CloseOnExec, 0x1A4);
                    if (fd < 0)
                        throw SyscallException.FromLastError("openat", ".gitpod/ready.tmp");
                    try
                    {
                        if (Libc.Write(fd, data, json.Length) != json.Length)
                            throw SyscallException.FromLastError("write", ".gitpod/ready.tmp");
                        Chown(fd, uid, gid);
                    }
                    finally
                    {
                        Libc.Close(fd);
                    }
                    if (Libc.RenameAt(directory, temporary, directory, final) != 0)
                        throw SyscallException.FromLastError("renameat", ".gitpod/ready");
                }
            }
            finally
            {
                Libc.Close(directory);
            }
        }
        finally
        {
            Libc.Close(content);
        }
    }

    /// <summary>Removes the marker, so it is never part of a backup (docs/compatibility.md#ready-marker).</summary>
    public static void Remove(string contentDirectory)
    {
        int content = Directories.Open(contentDirectory);
        try
        {
            int directory;
            fixed (byte* gitpod = ".gitpod\0"u8)
                directory = BeneathRoot.TryOpenEntry(content, gitpod, OpenFlags.ReadOnly | OpenFlags.Directory, out _);
            if (directory < 0)
                return; // no .gitpod directory, so no marker
            fixed (byte* ready = "ready\0"u8)
                Libc.UnlinkAt(directory, ready, 0);
            Libc.Close(directory);
        }
        finally
        {
            Libc.Close(content);
        }
    }

    // A .gitpod that is not a directory becomes .gitpod.yaml (or goes, if that exists;
    // docs/compatibility.md#the-gitpod-directory). A symlink counts as not a directory: it is renamed,
    // never followed.
    static void MakeGitpodADirectory(int content, string contentDirectory)
    {
        StatxBuffer st;
        fixed (byte* gitpod = ".gitpod\0"u8)
        fixed (byte* yaml = ".gitpod.yaml\0"u8)
        {
            if (Libc.Statx(content, gitpod, AtFlags.SymlinkNoFollow, StatxMask.BasicStats, &st) != 0 || st.FileType == StatMode.Directory)
                return;
            if (Libc.Statx(content, yaml, AtFlags.SymlinkNoFollow, StatxMask.BasicStats, &st) == 0)
            {
                if (Libc.UnlinkAt(content, gitpod, 0) != 0)
                    throw SyscallException.FromLastError("unlinkat", contentDirectory + "/.gitpod");
            }
            else if (Libc.RenameAt(content, gitpod, content, yaml) != 0)
            {
                throw SyscallException.FromLastError("renameat", contentDirectory + "/.gitpod");
            }
        }
    }

    static void Chown(int fd, uint uid, uint gid)
    {
        if (Libc.GetEuid() == 0 && Libc.FChown(fd, uid, gid) != 0)
            throw SyscallException.FromLastError("fchown", ".gitpod");
    }
}
