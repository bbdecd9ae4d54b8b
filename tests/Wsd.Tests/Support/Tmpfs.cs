namespace Wsd.Tests.Support;

/// <summary>A size-limited tmpfs the test mounts, fills, grows and makes read-only: a real small filesystem for the fault tests.</summary>
public sealed class Tmpfs : IDisposable
{
    public string Path { get; }

    public Tmpfs(string path, string size)
    {
        Tools.RequireRoot("mount -t tmpfs");
        Path = path;
        Directory.CreateDirectory(path);
        Tools.Ok("mount", "/", "-t", "tmpfs", "-o", $"size={size},mode=0755", "tmpfs", path);
    }

    public void Resize(string size) => Tools.Ok("mount", "/", "-o", $"remount,size={size}", Path);

    public void ReadOnly(bool readOnly) => Tools.Ok("mount", "/", "-o", readOnly ? "remount,ro" : "remount,rw", Path);

    /// <summary>Writes one file until the filesystem has no room left, and returns its path.</summary>
    public string Fill(string name = "filler")
    {
        string path = System.IO.Path.Combine(Path, name);
        var chunk = new byte[1 << 20];
        Array.Fill(chunk, (byte)0x5a);
        using var file = File.Create(path);
        try
        {
            while (true)
                file.Write(chunk);
        }
        catch (IOException)
        {
        }
        // Whatever is left is smaller than a megabyte: take it too, a page at a time.
        try
        {
            while (true)
                file.Write(chunk, 0, 4096);
        }
        catch (IOException)
        {
        }
        return path;
    }

    public void Dispose() => Tools.Run("umount", "/", "-l", Path);
}
