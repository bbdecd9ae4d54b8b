using System.Diagnostics;
using System.Globalization;

namespace Wsd.ProcessBench;

/// <summary>
/// Successive backups of one workspace as a stop-and-start cycle makes them: the daemon with the
/// tar format and with the chunked one, beside restic and borg on the same tree, in the same run,
/// every store on the same tmpfs (docs/chunked-backups.md). Each step is timed for every tool in
/// turn: the first backup, a backup with nothing changed, one after a 1% change, a restore, and ten
/// more 1%-churn backups for the total each store holds. Run on the generated tree and on a real one
/// the machine has (the .NET SDK, the NuGet package cache and a git clone of this repository).
/// </summary>
static class IncrementalBench
{
    public static async Task RunAsync(string root, int runs, long sizeMiB, int smallFiles, Report report)
    {
        string work = Directory.CreateTempSubdirectory("wsd-incremental-bench-").FullName;
        File.SetUnixFileMode(work, (UnixFileMode)0x1ED);
        bool tmpfs = Shell.Run($"mount -t tmpfs -o size={Math.Max(sizeMiB, 1536) * 14 + 2048}m wsd-bench {work}", check: false) == 0;
        try
        {
            string generated = Path.Combine(work, "tree");
            var (files, bytes) = TreeGenerator.Create(generated, sizeMiB << 20, smallFiles);
            await RunTreeAsync(root, work, generated, $"generated tree, {files:N0} files, {bytes / 1e6:N0} MB", runs, report);
            Shell.Run($"rm -rf {generated}");

            var real = RealTreeSources(root);
            if (real.Count == 0)
            {
                Console.WriteLine("real tree: skipped, no .NET SDK, NuGet cache or git clone found");
                return;
            }
            string tree = Path.Combine(work, "tree");
            Directory.CreateDirectory(tree);
            foreach (var (name, source, command) in real)
                Shell.Run(command(source, Path.Combine(tree, name)));
            var realFiles = Directory.EnumerateFiles(tree, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).ToList();
            long realBytes = realFiles.Sum(f => new FileInfo(f).Length);
            string realLabel = $"real tree ({string.Join(" + ", real.Select(r => r.Name))}), {realFiles.Count:N0} files, {realBytes / 1e6:N0} MB";
            await RunTreeAsync(root, work, tree, realLabel, runs, report);
            if (StageRequirements.Missing("storage", root) is { } why)
                Console.WriteLine($"through S3: skipped: {why}");
            else
                await IncrementalS3Bench.RunAsync(root, work, tree, realLabel, report);
        }
        finally
        {
            if (tmpfs)
                Shell.Run($"umount {work}", check: false);
            Directory.Delete(work, recursive: true);
        }
    }

    // What the machine has that looks like a workspace: an SDK installation, a package cache, and a
    // clone with its history (the repository's own, cloned so that it has a work tree and objects of its own).
    static List<(string Name, string Source, Func<string, string, string> Command)> RealTreeSources(string root)
    {
        var found = new List<(string, string, Func<string, string, string>)>();
        string? sdk = new[] { "/usr/share/dotnet", "/usr/lib/dotnet" }.FirstOrDefault(Directory.Exists);
        if (sdk is not null)
            found.Add(("dotnet-sdk", sdk, (from, to) => $"cp -a {from} {to}"));
        string nuget = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        if (Directory.Exists(nuget))
            found.Add(("nuget-packages", nuget, (from, to) => $"cp -a {from} {to}"));
        if (Directory.Exists(Path.Combine(root, ".git")))
            found.Add(("wsd-clone", root, (from, to) => $"git clone -q --no-hardlinks {from} {to}"));
        return found;
    }

    static async Task RunTreeAsync(string root, string work, string tree, string label, int runs, Report report)
    {
        Console.WriteLine();
        Console.WriteLine($"## {label}");
        Shell.Run($"chown -R 133332:133332 {tree}"); // owned by the workspace user, as real content is
        long treeBytes = Directory.EnumerateFiles(tree, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).Sum(f => new FileInfo(f).Length);
        await using var tar = await DaemonTool.StartAsync(root, work, "tar", tree);
        await using var chunked = await DaemonTool.StartAsync(root, work, "chunked", tree);
        // The same with content.backup.chunkCompression 0: every chunk plain, no compression budget spent.
        await using var plain = await DaemonTool.StartAsync(root, work, "chunked", tree, compression: 0);
        var churn = new Churn(tree, [tar.Content, chunked.Content, plain.Content]);
        IBackupTool[] tools = [tar, chunked, plain, new ResticTool(work, tree), new BorgTool(work, tree)];
        var steps = new Dictionary<string, Dictionary<string, List<(double Seconds, long Added)>>>();
        void Record(string step, IBackupTool tool, double seconds, long added)
        {
            var byTool = steps.TryGetValue(step, out var s) ? s : steps[step] = [];
            (byTool.TryGetValue(tool.Name, out var list) ? list : byTool[tool.Name] = []).Add((seconds, added));
        }
        async Task Backup(string step, IEnumerable<IBackupTool>? only = null)
        {
            foreach (var tool in only ?? tools)
            {
                long before = tool.StoredBytes();
                ArchiveBench.Prefault(work, treeBytes);
                double seconds = await BenchClient.Time(tool.BackupAsync);
                Record(step, tool, seconds, tool.AddedBytes(before));
            }
        }

        // The first backup is the noisiest figure and the daemons' is cheap to repeat: each repeat
        // starts from an empty store again. restic's and borg's take ten seconds each and run once.
        DaemonTool[] daemons = [tar, chunked, plain];
        for (int run = 1; run < runs; run++)
        {
            await Backup("first backup", daemons);
            foreach (var daemon in daemons)
                daemon.ForgetBackups();
        }
        await Backup("first backup");
        for (int run = 0; run < runs; run++)
        {
            await Backup("no-change backup");
            churn.Apply();
            await Backup("1% change backup");
        }
        foreach (var tool in tools)
        {
            string destination = Path.Combine(work, "restored");
            ArchiveBench.Prefault(work, treeBytes);
            double seconds = await BenchClient.Time(() => tool.RestoreAsync(destination));
            Record("restore", tool, seconds, 0);
            await tool.DiscardRestoreAsync(destination);
        }
        var tenBefore = tools.ToDictionary(t => t.Name, t => t.StoredBytes());
        var tenSent = tools.ToDictionary(t => t.Name, _ => 0L);
        for (int i = 0; i < 10; i++)
        {
            churn.Apply();
            foreach (var tool in tools)
            {
                long before = tool.StoredBytes();
                await tool.BackupAsync();
                tenSent[tool.Name] += tool.AddedBytes(before);
            }
        }
        var total = tools.ToDictionary(t => t.Name, t => t.StoredBytes());
        long tarPeak = tar.PeakRss(), chunkedPeak = chunked.PeakRss(), plainPeak = plain.PeakRss();
        await tar.DisposeAsync();
        await chunked.DisposeAsync();
        await plain.DisposeAsync();
        // The next tree starts with empty stores and daemons that know no workspace.
        Shell.Run($"rm -rf {work}/daemon-* {work}/restic {work}/restic-cache {work}/borg {work}/borg-base");

        Console.WriteLine();
        Console.WriteLine($"| step | {string.Join(" | ", tools.Select(t => t.Name))} |");
        Console.WriteLine($"|---|{string.Concat(tools.Select(_ => "---|"))}");
        foreach (var (step, byTool) in steps)
            Console.WriteLine($"| {step} | {string.Join(" | ", tools.Select(t => Cell(byTool[t.Name], step != "restore")))} |");
        Console.WriteLine($"| ten 1%-churn backups: stored (sent) | {string.Join(" | ", tools.Select(t => S($"{MB(total[t.Name] - tenBefore[t.Name])} ({MB(tenSent[t.Name])})")))} |");
        Console.WriteLine($"| store at the end | {string.Join(" | ", tools.Select(t => MB(total[t.Name])))} |");
        Console.WriteLine();
        Console.WriteLine(S($"Medians of {runs} runs where a step repeats (min-max). \"+\" is what the store grew by; the tar format overwrites its one object, so for it the figure is the object it sent."));
        Console.WriteLine(S($"daemon peak RSS: tar {tarPeak / 1048576.0:F1} MiB, chunked {chunkedPeak / 1048576.0:F1} MiB, chunked plain {plainPeak / 1048576.0:F1} MiB"));

        string section = $"incremental, {label}";
        double Median(string step, string tool) => BenchClient.Percentile(steps[step][tool].Select(r => r.Seconds).ToList(), 50);
        long MedianAdded(string step, string tool) => steps[step][tool].Select(r => r.Added).Order().ElementAt(steps[step][tool].Count / 2);
        void Time(string step, string tool, string peer)
            => report.Add(section, $"{step}: {tool}", S($"{Median(step, tool):F2} s"), peer, S($"{Median(step, peer):F2} s"), Median(step, tool) / Median(step, peer));
        Time("first backup", chunked.Name, tar.Name);
        Time("no-change backup", chunked.Name, "borg");
        report.Add(section, "no-change backup: bytes added", MB(MedianAdded("no-change backup", chunked.Name)), "borg", MB(MedianAdded("no-change backup", "borg")),
            (double)MedianAdded("no-change backup", chunked.Name) / Math.Max(1, MedianAdded("no-change backup", "borg")));
        Time("1% change backup", chunked.Name, "borg");
        report.Add(section, "1% change backup: bytes added", MB(MedianAdded("1% change backup", chunked.Name)), "borg", MB(MedianAdded("1% change backup", "borg")),
            (double)MedianAdded("1% change backup", chunked.Name) / Math.Max(1, MedianAdded("1% change backup", "borg")));
        Time("restore", chunked.Name, tar.Name);
        report.Add(section, "ten 1%-churn backups: stored", MB(total[chunked.Name] - tenBefore[chunked.Name]), "borg", MB(total["borg"] - tenBefore["borg"]),
            (double)(total[chunked.Name] - tenBefore[chunked.Name]) / Math.Max(1, total["borg"] - tenBefore["borg"]));
        Time("first backup", plain.Name, tar.Name);
        report.Add(section, $"1% change backup: bytes added, {plain.Name}", MB(MedianAdded("1% change backup", plain.Name)), "borg",
            MB(MedianAdded("1% change backup", "borg")), (double)MedianAdded("1% change backup", plain.Name) / Math.Max(1, MedianAdded("1% change backup", "borg")));
        report.Add(section, $"ten 1%-churn backups: stored, {plain.Name}", MB(total[plain.Name] - tenBefore[plain.Name]), "borg",
            MB(total["borg"] - tenBefore["borg"]), (double)(total[plain.Name] - tenBefore[plain.Name]) / Math.Max(1, total["borg"] - tenBefore["borg"]));
        report.Add(section, "daemon peak RSS: chunked", S($"{chunkedPeak / 1048576.0:F1} MiB"), "tar format", S($"{tarPeak / 1048576.0:F1} MiB"),
            (double)chunkedPeak / tarPeak);
    }

    static string Cell(List<(double Seconds, long Added)> results, bool added)
    {
        var seconds = results.Select(r => r.Seconds).ToList();
        string time = results.Count == 1 ? S($"{seconds[0]:F2} s") : S($"{BenchClient.Percentile(seconds, 50):F2} s ({seconds.Min():F2}-{seconds.Max():F2})");
        return added ? $"{time}, +{MB(results.Select(r => r.Added).Order().ElementAt(results.Count / 2))}" : time;
    }

    static string MB(long bytes) => bytes < 10_000_000 ? S($"{bytes / 1e6:F3} MB") : S($"{bytes / 1e6:N0} MB");

    static string S(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>Bytes in the files under a directory, as stored (apparent sizes).</summary>
    internal static long DirectoryBytes(string path) => !Directory.Exists(path) ? 0
        : Directory.EnumerateFiles(path, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).Sum(f => new FileInfo(f).Length);
}

/// <summary>
/// The 1% change: an edit in place to one small file in three hundred (so that the daemons' hardlinked
/// copies of the tree see it too) and one new file of a hundredth of the tree's bytes, half text and half
/// noise, linked into each copy.
/// </summary>
sealed class Churn(string tree, string[] copies)
{
    readonly List<string> _small = [.. Directory.EnumerateFiles(tree, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
        .Where(f => new FileInfo(f) is { Length: > 0 and < 1 << 20, LinkTarget: null }).Order(StringComparer.Ordinal)];
    readonly long _bytes = IncrementalBench.DirectoryBytes(tree);
    // A tree churned before (the S3 part reuses the real tree) keeps its added files; new ones get new names.
    int _round = Directory.GetFiles(tree, "added-*.bin").Length;

    public void Apply()
    {
        var random = new Random(20261203 + _round);
        int edits = Math.Max(1, _small.Count / 300);
        for (int i = 0; i < edits; i++)
        {
            string file = _small[random.Next(_small.Count)];
            using var handle = File.OpenHandle(file, FileMode.Open, FileAccess.Write);
            long length = RandomAccess.GetLength(handle);
            var edit = System.Text.Encoding.ASCII.GetBytes($"/* edit {_round}.{i} {random.Next():x8} */\n");
            RandomAccess.Write(handle, edit, random.NextInt64(length));
            RandomAccess.Write(handle, edit, length); // and it grows, as edits do
        }
        string added = Path.Combine(tree, $"added-{_round}.bin");
        var block = new byte[1 << 20];
        using (var file = File.Create(added))
        {
            for (long done = 0; done < _bytes / 100; done += block.Length)
            {
                random.NextBytes(block.AsSpan(0, block.Length / 2));
                System.Text.Encoding.ASCII.GetBytes(new string('w', block.Length / 2), block.AsSpan(block.Length / 2));
                file.Write(block, 0, (int)Math.Min(block.Length, _bytes / 100 - done));
            }
        }
        Shell.Run($"chown 133332:133332 {added}");
        foreach (var copy in copies)
            Shell.Run($"ln {added} {Path.Combine(copy, Path.GetFileName(added))}");
        _round++;
    }
}

/// <summary>One backup tool under measurement, backing up the one tree into a store of its own.</summary>
interface IBackupTool
{
    string Name { get; }
    Task BackupAsync();
    Task RestoreAsync(string destination);
    Task DiscardRestoreAsync(string destination)
    {
        Shell.Run($"rm -rf {destination}");
        return Task.CompletedTask;
    }
    long StoredBytes();
    /// <summary>What the last backup added, given <see cref="StoredBytes"/> before it.</summary>
    long AddedBytes(long before) => StoredBytes() - before;
}

/// <param name="repository">A restic repository URL (s3:...); a directory in <paramref name="work"/> when null.</param>
sealed class ResticTool(string work, string tree, string? repository = null, string environment = "") : IBackupTool
{
    readonly string _repository = repository ?? Path.Combine(work, "restic");
    readonly string _environment = $"RESTIC_PASSWORD=bench RESTIC_CACHE_DIR={work}/restic-cache {environment}";
    bool _initialised;

    public string Name => "restic";

    public Task BackupAsync()
    {
        if (!_initialised)
        {
            Shell.Run($"rm -rf {(repository is null ? _repository : "")} {work}/restic-cache && {_environment} restic -q -r {_repository} init >/dev/null");
            _initialised = true;
        }
        Shell.Run($"cd {tree} && {_environment} restic -q -r {_repository} backup --host bench . >/dev/null");
        return Task.CompletedTask;
    }

    public Task RestoreAsync(string destination)
    {
        Shell.Run($"{_environment} restic -q -r {_repository} restore latest --target {destination} >/dev/null");
        return Task.CompletedTask;
    }

    public long StoredBytes() => IncrementalBench.DirectoryBytes(_repository);
}

sealed class BorgTool(string work, string tree) : IBackupTool
{
    readonly string _repository = Path.Combine(work, "borg");
    readonly string _environment = $"BORG_BASE_DIR={work}/borg-base BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes";
    int _archives;

    public string Name => "borg";

    public Task BackupAsync()
    {
        if (_archives == 0)
            Shell.Run($"rm -rf {_repository} {work}/borg-base && {_environment} borg init -e none {_repository}");
        Shell.Run($"cd {tree} && {_environment} borg create --compression lz4 {_repository}::b{_archives++} .");
        return Task.CompletedTask;
    }

    public Task RestoreAsync(string destination)
    {
        Directory.CreateDirectory(destination);
        Shell.Run($"cd {destination} && {_environment} borg extract {_repository}::b{_archives - 1}");
        return Task.CompletedTask;
    }

    public long StoredBytes() => IncrementalBench.DirectoryBytes(_repository);
}

/// <summary>
/// The AOT daemon with one backup format and the local store: the workspace's content is the tree,
/// hardlinked in (so every tool reads the same inodes, and an edit to the tree is an edit to it);
/// a backup is BackupWorkspace, a restore is an init of a new instance of the same workspace, which
/// restores its backup.
/// </summary>
sealed class DaemonTool : IBackupTool, IAsyncDisposable
{
    readonly Process _daemon;
    readonly Grpc.Net.Client.GrpcChannel _channel;
    readonly Api.WsDaemon.WorkspaceContentService.WorkspaceContentServiceClient _client;
    readonly string _store, _area, _id;
    int _restores;

    DaemonTool(string name, Process daemon, Grpc.Net.Client.GrpcChannel channel, string store, string area)
    {
        Name = $"wsd {name}";
        _daemon = daemon;
        _channel = channel;
        _client = new(channel);
        _store = store;
        _area = area;
        _id = $"inc-{name.Replace(' ', '-')}";
    }

    public string Name { get; }

    /// <summary>The workspace's content: the tree, hardlinked.</summary>
    public string Content => Path.Combine(_area, _id);

    /// <param name="s3">The daemon's content.storage as JSON, for an S3 store; its local store when null.</param>
    /// <param name="compression">content.backup.chunkCompression; the daemon's default when null.</param>
    public static async Task<DaemonTool> StartAsync(string root, string work, string format, string tree, int? compression = null, string? s3 = null)
    {
        string name = compression switch { null => format, 0 => $"{format} plain", _ => $"{format} zstd{compression}" };
        string dir = Path.Combine(work, $"daemon-{name.Replace(' ', '-')}");
        Directory.CreateDirectory(dir);
        string store = Path.Combine(dir, "storage"), area = Path.Combine(dir, "area");
        int port = Daemon.FreePort(), health = Daemon.FreePort();
        string config = Path.Combine(dir, "wsd.json");
        string storage = s3 ?? $$"""{ "local": { "root": "{{store}}" } }""";
        await File.WriteAllTextAsync(config, $$"""
            { "service": { "address": "127.0.0.1:{{port}}" }, "health": { "address": "127.0.0.1:{{health}}" }, "log": { "level": "warning" },
              "content": { "workingArea": "{{area}}", "minFreeBytes": 0, "backup": { "format": "{{format}}"{{(compression is { } level ? $", \"chunkCompression\": {level}" : "")}} },
                           "storage": {{storage}} } }
            """);
        var tool = new DaemonTool(name, Daemon.Aot(root).Start(dir, config), Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{port}"), store, area)
        {
            HealthPort = health,
        };
        try
        {
            await BenchClient.WaitReady(tool._client);
            await tool._client.InitWorkspaceAsync(BenchClient.Empty(tool._id, "incremental"));
            string content = Path.Combine(area, tool._id);
            Shell.Run($"rm -rf {content} && cp -al {tree} {content}");
            return tool;
        }
        catch
        {
            await tool.DisposeAsync();
            throw;
        }
    }

    public Task BackupAsync() => _client.BackupWorkspaceAsync(new Api.WsDaemon.BackupWorkspaceRequest { Id = _id }).ResponseAsync;

    // A new instance of the same workspace restores its backup (into the daemon's working area, not the destination).
    public Task RestoreAsync(string destination) =>
        _client.InitWorkspaceAsync(BenchClient.Empty($"{_id}-restore{++_restores}", "incremental")).ResponseAsync;

    public async Task DiscardRestoreAsync(string destination)
    {
        string id = $"{_id}-restore{_restores}";
        await _client.DisposeWorkspaceAsync(new Api.WsDaemon.DisposeWorkspaceRequest { Id = id });
        Shell.Run($"rm -rf {Path.Combine(_area, id)}");
    }

    public long StoredBytes() => IncrementalBench.DirectoryBytes(_store);

    // The tar format overwrites its one object: what a backup sent is that object.
    public long AddedBytes(long before) => Name == "wsd tar" ? StoredBytes() : StoredBytes() - before;

    public long PeakRss() => BenchClient.Memory(_daemon.Id, "VmHWM");

    /// <summary>Empties the store and drops the files cache: the next backup is a first one again.</summary>
    public void ForgetBackups()
    {
        Shell.Run($"rm -rf {_store}/* {Content}.files-cache");
    }

    public int HealthPort { get; private init; }

    /// <summary>A counter of the daemon's /metrics, 0 when it has none yet.</summary>
    public async Task<long> CounterAsync(string series)
    {
        using var http = new HttpClient();
        string metrics = await http.GetStringAsync($"http://127.0.0.1:{HealthPort}/metrics");
        string? line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : (long)double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        if (!_daemon.HasExited)
        {
            _daemon.Kill();
            await _daemon.WaitForExitAsync();
        }
    }
}
