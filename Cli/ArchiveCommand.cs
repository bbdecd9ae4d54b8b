using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Wsd.Archive;
using Wsd.Archive.Streams;
using Wsd.Linux;

namespace Wsd.Cli;

/// <summary>
/// <c>wsd archive create DIR</c> (archive to stdout) and <c>wsd archive extract DIR</c> (archive from
/// stdin): the daemon's tar engine for operators and benchmarks, with the same safety. A one-line
/// JSON summary with the archive's SHA-256 goes to stderr.
/// </summary>
static class ArchiveCommand
{
    public const string Usage = """
          wsd archive create DIR [--zstd[=LEVEL]] [--uid-map C:H:N]... [--gid-map C:H:N]... [--fallback-id N] [--no-xattrs]
                                                archive DIR to stdout
          wsd archive extract DIR [--uid-map C:H:N]... [--gid-map C:H:N]... [--allow-devices] [--no-owners]
                                  [--no-xattrs] [--sha256 HEX]
                                                extract stdin (plain or zstd tar) into DIR
        """;

    public static int Run(string[] args)
    {
        if (args is ["show" or "to-tar", ..])
            return StoredArchiveCommand.Run(args);
        if (args.Length < 2 || args[0] is not ("create" or "extract"))
            throw new UsageException("archive needs 'create DIR', 'extract DIR', 'show OBJECT' or 'to-tar OBJECT'");
        var flags = Flags.Parse(args[2..]);
        return args[0] == "create" ? Create(args[1], flags) : Extract(args[1], flags);
    }

    static int Create(string directory, Flags flags)
    {
        if (flags.AllowDevices || flags.NoOwners || flags.ExpectedSha256 is not null)
            throw new UsageException("--allow-devices, --no-owners and --sha256 are extract options");
        using var stdout = new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);
        using var hashed = new Sha256Stream(stdout, leaveOpen: true);
        var stats = new ArchiveStats();
        var options = new ArchiveWriteOptions { Uids = flags.Uids(), Gids = flags.Gids(), Xattrs = !flags.NoXattrs, Progress = stats };
        using (ProgressLine.Start(() => new ProgressLine.Figures("archiving", stats.DataBytes, stats.Entries)))
        {
            if (flags.ZstdLevel is int level)
            {
                using var zstd = ArchiveCompression.Compress(hashed, level);
                ArchiveWriter.Write(directory, zstd, options);
            }
            else
            {
                ArchiveWriter.Write(directory, hashed, options);
            }
        }
        Summary(hashed.HexDigest(), hashed.BytesHashed, stats, verified: null);
        return 0;
    }

    static int Extract(string directory, Flags flags)
    {
        if (flags.ZstdLevel is not null || flags.Fallback is not null)
            throw new UsageException("--zstd and --fallback-id are create options");
        using var stdin = new FileStream(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);
        using var hashed = new Sha256Stream(stdin, leaveOpen: true);
        using var tar = ArchiveCompression.OpenForReading(hashed, out _);
        var progress = new ArchiveStats();
        var options = new ArchiveReadOptions
        {
            Progress = progress,
            Uids = flags.Uids(),
            Gids = flags.Gids(),
            AllowDevices = flags.AllowDevices,
            RestoreOwners = !flags.NoOwners && Interop.Libc.GetEuid() == 0,
            Xattrs = !flags.NoXattrs,
        };
        ArchiveStats stats;
        using (ProgressLine.Start(() => new ProgressLine.Figures("extracting", progress.DataBytes, progress.Entries)))
            stats = ArchiveExtractor.Extract(tar, directory, options);
        string digest = hashed.HexDigest();
        bool? verified = flags.ExpectedSha256 is { } expected ? string.Equals(expected, digest, StringComparison.OrdinalIgnoreCase) : null;
        Summary(digest, hashed.BytesHashed, stats, verified);
        if (verified == false)
        {
            Console.Error.WriteLine($"wsd: the archive's SHA-256 is {digest}, not the expected {flags.ExpectedSha256}: its content cannot be trusted");
            return 1;
        }
        return 0;
    }

    static void Summary(string sha256, long archiveBytes, ArchiveStats stats, bool? verified)
    {
        Console.Error.WriteLine(JsonLine.Of(json =>
        {
            json.WriteString("sha256", sha256);
            if (verified is bool v)
                json.WriteBoolean("verified", v);
            json.WriteNumber("archiveBytes", archiveBytes);
            json.WriteNumber("tarBytes", stats.TarBytes);
            json.WriteNumber("dataBytes", stats.DataBytes);
            json.WriteNumber("entries", stats.Entries);
            json.WriteNumber("files", stats.Files);
            json.WriteNumber("sparseFiles", stats.SparseFiles);
            json.WriteNumber("directories", stats.Directories);
            json.WriteNumber("symlinks", stats.Symlinks);
            json.WriteNumber("hardLinks", stats.HardLinks);
            json.WriteNumber("specialFiles", stats.SpecialFiles);
            json.WriteNumber("unmappedOwners", stats.UnmappedOwners);
            if (stats.UnmappedSample.Count > 0)
            {
                json.WriteStartArray("unmappedSample");
                foreach (var name in stats.UnmappedSample)
                    json.WriteStringValue(name);
                json.WriteEndArray();
            }
            json.WriteNumber("socketsSkipped", stats.SocketsSkipped);
            json.WriteNumber("devicesSkipped", stats.DevicesSkipped);
            json.WriteNumber("unknownTypesSkipped", stats.UnknownTypesSkipped);
            json.WriteNumber("vanishedSkipped", stats.VanishedSkipped);
            json.WriteNumber("changedWhileRead", stats.ChangedWhileRead);
        }));
    }

    sealed class Flags
    {
        public List<IdRange> UidRanges { get; } = [];
        public List<IdRange> GidRanges { get; } = [];
        public uint? Fallback { get; set; }
        public int? ZstdLevel { get; set; }
        public bool AllowDevices { get; set; }
        public bool NoOwners { get; set; }
        public bool NoXattrs { get; set; }
        public string? ExpectedSha256 { get; set; }

        public IdMap Uids() => Map(UidRanges);
        public IdMap Gids() => Map(GidRanges);

        IdMap Map(List<IdRange> ranges) => ranges.Count == 0 && Fallback is null
            ? IdMap.Identity
            : new IdMap(ranges.Count == 0 ? [new IdRange(0, 0, uint.MaxValue)] : ranges, Fallback ?? IdMap.OverflowId);

        public static Flags Parse(string[] args)
        {
            var flags = new Flags();
            for (int i = 0; i < args.Length; i++)
            {
                string arg = args[i];
                string Value() => i + 1 < args.Length ? args[++i] : throw new UsageException($"{arg} needs a value");
                try
                {
                    switch (arg)
                    {
                        case "--uid-map": flags.UidRanges.Add(IdRange.Parse(Value())); break;
                        case "--gid-map": flags.GidRanges.Add(IdRange.Parse(Value())); break;
                        case "--fallback-id": flags.Fallback = uint.Parse(Value()); break;
                        case "--zstd": flags.ZstdLevel = 3; break;
                        case var z when z.StartsWith("--zstd=", StringComparison.Ordinal):
                            flags.ZstdLevel = int.Parse(z["--zstd=".Length..]);
                            if (flags.ZstdLevel is < 1 or > 19)
                                throw new UsageException("--zstd level must be between 1 and 19");
                            break;
                        case "--allow-devices": flags.AllowDevices = true; break;
                        case "--no-owners": flags.NoOwners = true; break;
                        case "--no-xattrs": flags.NoXattrs = true; break;
                        case "--sha256": flags.ExpectedSha256 = Value(); break;
                        default: throw new UsageException($"unknown archive option '{arg}'");
                    }
                }
                catch (FormatException e)
                {
                    throw new UsageException($"{arg}: {e.Message}");
                }
            }
            return flags;
        }
    }
}
