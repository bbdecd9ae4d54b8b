using System.Diagnostics;
using Wsd.ProcessBench;

// usage: Wsd.ProcessBench REPO_ROOT [startup|archive|content|storage|incremental|iws|veths]... [--runs N] [--size-mb N] [--small-files N]
//        storage only: [--part-size-mib N] [--parallel-parts N] [--transports http,https]
//        Wsd.ProcessBench sft-create DIR ARCHIVE | sft-extract ARCHIVE DIR   (the System.Formats.Tar peer)
//        Wsd.ProcessBench generate-tree DIR MIB FILES                        (the benchmark's tree, to keep)
if (args is ["sft-create" or "sft-extract", ..])
    return SystemFormatsTarPeer.Run(args);
if (args is ["generate-tree", var treeRoot, var treeMiB, var treeFiles])
{
    var (count, bytes) = TreeGenerator.Create(treeRoot, long.Parse(treeMiB) << 20, int.Parse(treeFiles));
    Console.WriteLine($"{count} files, {bytes} bytes");
    return 0;
}
if (args.Length < 1)
{
    Console.Error.WriteLine("usage: Wsd.ProcessBench REPO_ROOT [startup|archive|content|storage|incremental|iws|veths]... [--runs N] [--size-mb N] [--small-files N] [--part-size-mib N] [--parallel-parts N] [--transports http,https]");
    return 2;
}
string root = args[0];
var rest = args.Skip(1).ToList();
int Option(string name, int fallback)
{
    int at = rest.IndexOf(name);
    if (at < 0 || at + 1 >= rest.Count)
        return fallback;
    int value = int.Parse(rest[at + 1]);
    rest.RemoveRange(at, 2);
    return value;
}
int? runsOption = rest.Contains("--runs") ? Option("--runs", 0) : null;
int sizeMb = Option("--size-mb", 1024);
int smallFiles = Option("--small-files", 50_000);
// The storage stage's multipart settings (0: the daemon's defaults) and transports, to try an endpoint's best.
var storageOptions = new StorageBenchOptions(Option("--part-size-mib", 0), Option("--parallel-parts", 0), TextOption("--transports", "http,https").Split(','));
string TextOption(string name, string fallback)
{
    int at = rest.IndexOf(name);
    if (at < 0 || at + 1 >= rest.Count)
        return fallback;
    string value = rest[at + 1];
    rest.RemoveRange(at, 2);
    return value;
}
var benches = rest.Count == 0 ? ["startup", "archive", "content", "storage"] : rest;
string[] known = ["startup", "archive", "content", "storage", "incremental", "iws", "veths"];
// Every name is checked before anything runs: a typo found after an hour of measuring costs the hour.
if (benches.FirstOrDefault(b => !known.Contains(b)) is { } unknown)
{
    Console.Error.WriteLine($"unknown benchmark '{unknown}'; known: {string.Join(", ", known)}");
    return 2;
}
Task Run(string bench, Report report) => bench switch
{
    "startup" => StartupBench.RunAsync(root, runsOption ?? 9, report),
    "archive" => ArchiveBench.RunAsync(root, runsOption ?? 3, sizeMb, smallFiles, report),
    "content" => ContentBench.RunAsync(root, sizeMb, smallFiles, report),
    "storage" => StorageBench.RunAsync(root, runsOption ?? 5, sizeMb, smallFiles, storageOptions, report),
    "incremental" => IncrementalBench.RunAsync(root, runsOption ?? 3, sizeMb, smallFiles, report),
    "iws" => IwsBench.RunAsync(root, runsOption ?? 200, report),
    "veths" => NetworkBench.RunAsync(root, runsOption ?? 50, report),
    _ => throw new UnreachableException($"'{bench}' passed the check of known names"),
};

string reportDirectory = Path.Combine(root, "out", "bench");
var report = new Report(Environment.GetEnvironmentVariable("WSD_COMMIT") ?? "unknown", DateTime.UtcNow);
report.Plan(benches);
// Each stage on its own: one that cannot run is skipped with the reason, one that throws is
// recorded as failed and the next one runs; the report is rewritten after each, so what was
// measured survives whatever happens later in the run.
foreach (var bench in benches)
{
    if (StageRequirements.Missing(bench, root) is { } why)
    {
        Console.Error.WriteLine($"{bench}: skipped: {why}");
        report.Skipped(bench, why);
    }
    else
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await Run(bench, report);
            report.Done(bench, clock.Elapsed);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"{bench}: failed: {e}");
            report.Failed(bench, e.Message);
        }
    }
    report.Write(reportDirectory);
    Console.Error.WriteLine($"{bench}: report so far in {Path.Combine(reportDirectory, "report.md")}");
}
Console.WriteLine();
Console.WriteLine(report.Markdown());
Console.WriteLine($"written: {Path.Combine(reportDirectory, "report.md")} and report.svg beside it");
return report.AnyFailed ? 1 : 0;
