using System.Text;
using Microsoft.Win32.SafeHandles;
using Wsd.Errors;
using Wsd.Interop;
using Wsd.Linux;

namespace Wsd.Storage;

/// <summary>
/// Objects as files under <c>&lt;root&gt;/&lt;bucket&gt;/&lt;key&gt;</c>, the embedded default
/// (docs/decisions.md#storage). An upload writes a hidden temporary file beside its target; commit stores
/// the digest as the xattr <c>user.wsd.sha256</c>, fsyncs, renames it into place and fsyncs the
/// directory.
/// </summary>
public sealed unsafe class LocalObjectStore(string root, string bucket) : IObjectStore
{
    const string DigestXattr = "user.wsd.sha256";
    const string UploadMarker = ".upload-";

    public string Bucket { get; } = bucket;

    public string Root { get; } = Path.GetFullPath(root);

    public Task<IObjectUpload> BeginUploadAsync(ObjectLocation location, ObjectContent content, CancellationToken cancellationToken)
    {
        string path = PathOf(location);
        string directory = Path.GetDirectoryName(path)!;
        string temporary = Path.Combine(directory, $".{Path.GetFileName(path)}{UploadMarker}{Guid.NewGuid():N}");
        FileStream file;
        try
        {
            Directory.CreateDirectory(directory);
            file = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead,
                BufferSize = 0,
            });
        }
        catch (IOException e) when (Linux.FilesystemFaults.Explain(e, "store", Root) is { } explained)
        {
            throw explained;
        }
        return Task.FromResult<IObjectUpload>(new Upload(new StoreWriteStream(file, Root), temporary, path));
    }

    public Task<StoredObject?> OpenReadAsync(ObjectLocation location, CancellationToken cancellationToken)
    {
        string path = PathOf(location);
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<StoredObject?>(null);
        }
        return Task.FromResult<StoredObject?>(new StoredObject(file, file.Length, ReadDigest(file.SafeFileHandle)));
    }

    // Synchronous: a local read of a pack's range is one pread, and this class is unsafe code, which cannot await.
    public Task<int?> ReadRangeAsync(ObjectLocation location, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        string path = PathOf(location);
        Microsoft.Win32.SafeHandles.SafeFileHandle file;
        try
        {
            file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<int?>(null);
        }
        using (file)
        {
            int got = 0;
            while (got < destination.Length)
            {
                int n = RandomAccess.Read(file, destination.Span[got..], offset + got);
                if (n == 0)
                    break; // the end: the caller sees fewer bytes than it asked for
                got += n;
            }
            return Task.FromResult<int?>(got);
        }
    }

    /// <summary>Removes temporaries of uploads that a crash interrupted; they were never visible as objects.</summary>
    public int RemoveAbandonedUploads()
    {
        string bucketRoot = Path.Combine(Root, Bucket);
        if (!Directory.Exists(bucketRoot))
            return 0;
        int removed = 0;
        foreach (var file in Directory.EnumerateFiles(bucketRoot, $".*{UploadMarker}*", SearchOption.AllDirectories))
        {
            File.Delete(file);
            removed++;
        }
        return removed;
    }

    string PathOf(ObjectLocation location)
    {
        if (location.Bucket != Bucket)
            throw new WsdException(ErrorCode.NotFound, $"bucket \"{location.Bucket}\" is not this store's (\"{Bucket}\")");
        foreach (var part in location.Key.Split('/'))
        {
            if (part.Length == 0 || part is "." or ".." || part.StartsWith('.'))
                throw new WsdException(ErrorCode.InvalidArgument, $"object key \"{location.Key}\" is not a plain relative name");
        }
        return Path.Combine(Root, Bucket, location.Key);
    }

    static string? ReadDigest(SafeFileHandle file)
    {
        var value = new byte[128];
        var name = Encoding.ASCII.GetBytes(DigestXattr + "\0");
        fixed (byte* n = name)
        fixed (byte* v = value)
        {
            nint length = Libc.FGetXattr((int)file.DangerousGetHandle(), n, v, value.Length);
            return length > 0 ? Encoding.ASCII.GetString(value, 0, (int)length) : null;
        }
    }

    sealed class Upload(StoreWriteStream content, string temporary, string target) : IObjectUpload
    {
        bool _committed;

        public Stream Content => content;

        public Task CommitAsync(string? sha256, CancellationToken cancellationToken)
        {
            try
            {
                Commit(sha256);
            }
            catch (IOException e)
            {
                throw content.Explain(e);
            }
            _committed = true;
            return Task.CompletedTask;
        }

        void Commit(string? sha256)
        {
            var file = content.File;
            if (sha256 is not null)
                SetDigest(file, sha256);
            file.Flush();
            Durability.Sync(file.SafeFileHandle, temporary);
            file.Dispose();
            File.Move(temporary, target, overwrite: true);
            Durability.SyncDirectory(Path.GetDirectoryName(target)!);
        }

        void SetDigest(FileStream file, string sha256)
        {
            var name = Encoding.ASCII.GetBytes(DigestXattr + "\0");
            var value = Encoding.ASCII.GetBytes(sha256);
            fixed (byte* n = name)
            fixed (byte* v = value)
            {
                if (Libc.FSetXattr((int)file.SafeFileHandle.DangerousGetHandle(), n, v, value.Length, 0) != 0 &&
                    Errno.Last != Errno.EOPNOTSUPP)
                    throw SyscallException.FromLastError("fsetxattr", temporary);
            }
        }

        public ValueTask DisposeAsync()
        {
            content.Dispose();
            if (!_committed)
            {
                try
                {
                    File.Delete(temporary);
                }
                catch (IOException)
                {
                    // A read-only store keeps the temporary; housekeeping removes abandoned uploads at the next start.
                }
            }
            return ValueTask.CompletedTask;
        }
    }
}
