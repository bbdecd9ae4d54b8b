using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Wsd.Interop;
using Wsd.Linux;
using Wsd.Storage;

namespace Wsd.Content;

/// <summary>
/// DisposeWorkspace's backup_logs (docs/compatibility.md#prebuild-logs): prebuild logs found in the
/// content are uploaded as
/// <c>&lt;owner&gt;/workspaces/&lt;metaId&gt;/instances/&lt;instanceId&gt;/logs/&lt;taskId&gt;</c>.
/// Failures are logged, not fatal, as upstream.
/// <para>
/// The content is the user's, who may have put a FIFO, a symlink or a huge file where a log is
/// expected, and may swap them while this runs. The log directory is opened beneath the content
/// with no symlinks, its names are streamed, and each log is opened by name in that directory with
/// O_NOFOLLOW|O_NONBLOCK and taken only when fstat says it is a regular file. Logs are streamed to
/// storage and cut at <see cref="MaxLogBytes"/>, at most <see cref="MaxLogs"/> of them.
/// </para>
/// </summary>
public sealed class LogUploader(ILogger<LogUploader> log)
{
    /// <summary>The most of one log that is uploaded; the rest is dropped with a warning.</summary>
    public const long MaxLogBytes = 256L << 20;

    /// <summary>The most logs one dispose uploads (a prebuild has a handful of tasks).</summary>
    public const int MaxLogs = 64;

    static readonly (string Directory, string Prefix)[] Places = [(".", "prebuild-log-"), (".gitpod", "prebuild-log-"), (".", ".prebuild-log-")];

    public async Task UploadAsync(string contentDirectory, IObjectStore store, string owner, string metaId, string instanceId, CancellationToken cancellationToken)
    {
        int root = Directories.Open(contentDirectory, followSymlink: false);
        try
        {
            foreach (var (directory, prefix) in Places)
            {
                int folder = OpenPlace(root, directory);
                if (folder < 0)
                    continue;
                try
                {
                    using var names = new DirectoryReader(folder, Path.Combine(contentDirectory, directory));
                    int uploaded = 0;
                    while (NextLog(names, prefix) is { } name)
                    {
                        if (uploaded == MaxLogs)
                        {
                            log.LogWarning("more than {count} prebuild logs in {directory}; the others are not uploaded", MaxLogs, directory);
                            break;
                        }
                        string taskId = name[prefix.Length..];
                        if (taskId.Length == 0 || taskId.StartsWith('.'))
                            continue;
                        string shown = Path.Combine(directory, name);
                        try
                        {
                            if (await UploadOneAsync(folder, name, shown, store, ObjectNames.Key(owner, metaId, $"instances/{instanceId}/logs/{taskId}"), cancellationToken))
                                uploaded++;
                        }
                        catch (Exception e) when (e is IOException or Errors.WsdException)
                        {
                            uploaded++; // it was a log; only its upload failed
                            log.LogWarning("cannot upload prebuild log {file}: {error}", shown, e.Message);
                        }
                    }
                    if (uploaded > 0)
                        return; // the first place with logs is the one (docs/compatibility.md#prebuild-logs)
                }
                finally
                {
                    Libc.Close(folder);
                }
            }
        }
        finally
        {
            Libc.Close(root);
        }
    }

    // The place's directory beneath the content, or -1 when there is none (or it is no plain directory).
    static int OpenPlace(int root, string directory)
    {
        try
        {
            return BeneathRoot.Open(root, directory, OpenFlags.ReadOnly | OpenFlags.Directory);
        }
        catch (SyscallException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR or Errno.ELOOP or Errno.EXDEV)
        {
            return -1;
        }
    }

    static string? NextLog(DirectoryReader names, string prefix)
    {
        Span<byte> wanted = stackalloc byte[32];
        wanted = wanted[..Encoding.ASCII.GetBytes(prefix, wanted)];
        while (names.Next(out var name, out _))
        {
            if (name.StartsWith(wanted))
                return Encoding.UTF8.GetString(name);
        }
        return null;
    }

    // Uploads one log; false when the entry is not a regular file (a FIFO, socket, device, directory
    // or symlink) and so no log at all.
    async Task<bool> UploadOneAsync(int folder, string name, string shown, IObjectStore store, string key, CancellationToken cancellationToken)
    {
        BeneathRoot.Leaf leaf;
        try
        {
            leaf = BeneathRoot.OpenLeaf(folder, name, OpenFlags.ReadOnly);
        }
        catch (SyscallException e) when (e.Errno == Errno.ELOOP)
        {
            log.LogWarning("prebuild log {file} is a symlink; not uploaded", shown);
            return false;
        }
        using var handle = new SafeFileHandle(leaf.Fd, ownsHandle: true);
        if (!leaf.IsRegular)
        {
            log.LogWarning("prebuild log {file} is not a regular file; not uploaded", shown);
            return false;
        }
        await using var upload = await store.BeginUploadAsync(new ObjectLocation(store.Bucket, key), ObjectContent.Other, cancellationToken);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long offset = 0;
            while (offset < MaxLogBytes)
            {
                int read = await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, (int)Math.Min(buffer.Length, MaxLogBytes - offset)), offset, cancellationToken);
                if (read == 0)
                    break;
                hash.AppendData(buffer, 0, read);
                await upload.Content.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                offset += read;
            }
            if (offset == MaxLogBytes && await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, 1), offset, cancellationToken) > 0)
                log.LogWarning("prebuild log {file} is larger than {max} bytes; only its first {max} bytes are uploaded", shown, MaxLogBytes, MaxLogBytes);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        await upload.CommitAsync(Convert.ToHexStringLower(hash.GetHashAndReset()), cancellationToken);
        return true;
    }
}
