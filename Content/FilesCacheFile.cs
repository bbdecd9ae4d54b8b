using Wsd.Storage.Chunked;

namespace Wsd.Content;

/// <summary>
/// A workspace's files cache on the node's disk (docs/chunked-backups.md, "Files cache"). It is a
/// hint: a cache that is missing, too large, torn or unsound is read as none, and one that cannot be
/// written leaves the next backup to read every file; neither fails a backup.
/// </summary>
public static class FilesCacheFile
{
    /// <summary>Larger than any cache <see cref="FilesCache"/> bounds allow: such a file is not read into memory.</summary>
    const long MaxBytes = 64L << 20;

    public static FilesCache? Read(string path, ILogger log)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
                return null;
            if (info.Length > MaxBytes)
            {
                log.LogWarning("the files cache {path} is {bytes} bytes, more than a cache may be; this backup reads every file", path, info.Length);
                return null;
            }
            var cache = FilesCache.Parse(File.ReadAllBytes(path), out string? problem);
            if (cache is null)
                log.LogWarning("the files cache {path} cannot be used ({problem}); this backup reads every file", path, problem);
            return cache;
        }
        catch (IOException e)
        {
            log.LogWarning("the files cache {path} cannot be read ({error}); this backup reads every file", path, e.Message);
            return null;
        }
    }

    /// <summary>Replaces the cache, write-then-rename, so a crash leaves the old one or the new one whole.</summary>
    public static void Write(string path, FilesCache cache, ILogger log)
    {
        try
        {
            Linux.Durability.WriteFileAtomically(path, cache.ToBytes(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning("the files cache {path} cannot be written ({error}); the next backup reads every file", path, e.Message);
            TryDelete(path);
        }
    }

    static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // The cache left behind is the previous one, whose entries are checked against the backup they name.
        }
    }
}
