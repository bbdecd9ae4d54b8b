using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Wsd.Archive;
using Wsd.Archive.Streams;
using Wsd.Content;
using Wsd.Errors;
using Wsd.Storage;
using Wsd.Storage.Chunked;

namespace Wsd.Cli;

/// <summary>
/// <c>wsd archive show OBJECT</c> and <c>wsd archive to-tar OBJECT</c>: a backup or snapshot in the
/// configured store, in either format, for an operator's inspection and for migration
/// (docs/chunked-backups.md, "Operator tools"). Every byte is checked as it is read, as a restore
/// checks it.
/// </summary>
static class StoredArchiveCommand
{
    public const string Usage = """
          wsd archive show OBJECT [--config FILE]
                                                a stored backup or snapshot (KEY or KEY@BUCKET): its format,
                                                chunks, packs and members, as one JSON line on stdout
          wsd archive to-tar OBJECT [--config FILE]
                                                the same as one plain tar archive on stdout
        """;

    public static int Run(string[] args)
    {
        if (args.Length < 2)
            throw new UsageException($"archive {args[0]} needs an OBJECT (KEY or KEY@BUCKET)");
        string? configFile = null;
        for (int i = 2; i < args.Length; i++)
        {
            if (args[i] is "--config" or "-c" && i + 1 < args.Length)
                configFile = args[++i];
            else
                throw new UsageException($"unknown option '{args[i]}' for archive {args[0]}");
        }
        var config = Config.ConfigLoader.Load(configFile);
        var store = ObjectStores.Open(config.Content.Storage);
        var location = ObjectLocation.TryParse(args[1], out var qualified) ? qualified : new ObjectLocation(store.Bucket, args[1]);
        return Task.Run(() => args[0] == "show" ? ShowAsync(store, location) : ToTarAsync(store, location)).GetAwaiter().GetResult();
    }

    static async Task<StoredObject> OpenAsync(IObjectStore store, ObjectLocation location) =>
        await store.OpenReadAsync(location, CancellationToken.None)
        ?? throw new WsdException(ErrorCode.NotFound, $"{location.Qualified} does not exist in the configured store");

    // The tar stream the object stands for, hashed as it is read; for a tar object, the digest is checked at its end.
    static async Task<(Stream Tar, Sha256Stream Hashed, ChunkedManifest? Manifest)> OpenTarAsync(IObjectStore store, ObjectLocation location, StoredObject stored)
    {
        var (head, manifest) = await ChunkedObjects.ReadHeadAsync(stored, location, CancellationToken.None);
        if (manifest is not null)
        {
            var chunked = new ChunkedRestoreStream(ChunkedObjects.PacksOf(store, location), manifest, location.Qualified);
            return (chunked, new Sha256Stream(chunked, leaveOpen: false), manifest);
        }
        var hashed = new Sha256Stream(new PrefixedStream(head, stored.Content), leaveOpen: true);
        return (ArchiveCompression.OpenForReading(hashed, out _), hashed, null);
    }

    static void CheckDigest(ObjectLocation location, StoredObject stored, Sha256Stream hashed, ChunkedManifest? manifest)
    {
        if (manifest is null) // a chunked stream's chunks were each checked against their IDs as they were read
            stored.RequireDigest(hashed.HexDigest(), location);
    }

    static async Task<int> ToTarAsync(IObjectStore store, ObjectLocation location)
    {
        await using var stored = await OpenAsync(store, location);
        var (tar, hashed, manifest) = await OpenTarAsync(store, location, stored);
        long bytes;
        using (tar)
        using (hashed)
        {
            using var stdout = new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);
            // A chunked stream is hashed on its way out; a tar object is hashed as stored, under its decompression.
            var source = manifest is null ? tar : hashed;
            var buffer = new byte[1 << 20];
            bytes = 0;
            for (int n; (n = await source.ReadAsync(buffer)) > 0; bytes += n)
                await stdout.WriteAsync(buffer.AsMemory(0, n));
            CheckDigest(location, stored, hashed, manifest);
            Console.Error.WriteLine(JsonLine.Of(json =>
            {
                json.WriteString("object", location.Qualified);
                json.WriteString("format", manifest is null ? "tar" : "chunked");
                json.WriteNumber("tarBytes", bytes);
                if (manifest is not null)
                    json.WriteString("sha256", hashed.HexDigest());
            }));
        }
        return 0;
    }

    static async Task<int> ShowAsync(IObjectStore store, ObjectLocation location)
    {
        await using var stored = await OpenAsync(store, location);
        var (tar, hashed, manifest) = await OpenTarAsync(store, location, stored);
        var members = new Members();
        long tarBytes;
        string sha256;
        using (tar)
        using (hashed)
        {
            // A chunked stream is hashed on its way to the walk; a tar object is hashed as stored, under its decompression.
            using var input = new TarInput(manifest is null ? tar : hashed);
            var reader = new TarEntryReader(input, new ArchiveReadOptions().MaxPaxHeaderBytes);
            var entry = new TarEntry();
            while (reader.Next(entry))
            {
                members.Count(entry);
                input.Skip(entry.Size + TarFormat.PaddingOf(entry.Size));
            }
            input.Drain();
            tarBytes = input.Position;
            CheckDigest(location, stored, hashed, manifest);
            sha256 = hashed.HexDigest();
        }
        ChunkRef[] recipe = manifest is null ? [] : ChunkedRestoreStream.ReadRecipe(ChunkedObjects.PacksOf(store, location), manifest, location.Qualified);
        Console.WriteLine(JsonLine.Of(json =>
        {
            json.WriteString("object", location.Qualified);
            json.WriteString("format", manifest is null ? "tar" : "chunked");
            json.WriteNumber("objectBytes", stored.Length);
            json.WriteString("sha256", sha256);
            json.WriteNumber("tarBytes", tarBytes);
            members.Write(json);
            if (manifest is not null)
                WriteChunks(json, manifest, recipe);
        }));
        return 0;
    }

    static void WriteChunks(Utf8JsonWriter json, ChunkedManifest manifest, ChunkRef[] recipe)
    {
        var distinct = recipe.DistinctBy(r => r.Entry.Id).ToList();
        json.WriteNumber("recipeChunks", manifest.Recipe.Count);
        json.WriteNumber("chunks", recipe.Length);
        json.WriteNumber("distinctChunks", distinct.Count);
        json.WriteNumber("storedBytes", distinct.Sum(r => (long)r.Entry.StoredLength));
        json.WriteNumber("compressedChunks", distinct.Count(r => r.Entry.Compressed));
        json.WriteStartArray("packs");
        foreach (var pack in recipe.Concat(manifest.Recipe).GroupBy(r => r.Pack).OrderBy(g => g.Key.ToString(), StringComparer.Ordinal))
        {
            json.WriteStartObject();
            json.WriteString("name", pack.Key.ToString());
            var chunks = pack.DistinctBy(r => r.Entry.Id).ToList();
            json.WriteNumber("chunks", chunks.Count);
            json.WriteNumber("bytes", chunks.Sum(r => (long)r.Entry.StoredLength));
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    /// <summary>What the members of the stream are, counted as a reader of the archive would.</summary>
    sealed class Members
    {
        long _entries, _files, _directories, _symlinks, _hardLinks, _other, _dataBytes;

        public void Count(TarEntry entry)
        {
            _entries++;
            switch (entry.Type)
            {
                case TarFormat.TypeRegular or TarFormat.TypeRegularOld or TarFormat.TypeContiguous:
                    _files++;
                    _dataBytes += entry.SparseRealSize > 0 ? entry.SparseRealSize : entry.Size;
                    break;
                case TarFormat.TypeDirectory: _directories++; break;
                case TarFormat.TypeSymlink: _symlinks++; break;
                case TarFormat.TypeHardLink: _hardLinks++; break;
                default: _other++; break;
            }
        }

        public void Write(Utf8JsonWriter json)
        {
            json.WriteNumber("entries", _entries);
            json.WriteNumber("files", _files);
            json.WriteNumber("directories", _directories);
            json.WriteNumber("symlinks", _symlinks);
            json.WriteNumber("hardLinks", _hardLinks);
            json.WriteNumber("otherEntries", _other);
            json.WriteNumber("dataBytes", _dataBytes);
        }
    }
}
