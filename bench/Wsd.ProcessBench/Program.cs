using Wsd.ProcessBench;

// usage: Wsd.ProcessBench REPO_ROOT [startup|archive|content|storage|iws|veths]... [--runs N] [--size-mb N] [--small-files N]
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
    Console.Error.WriteLine("usage: Wsd.ProcessBench REPO_ROOT [startup|archive|content|storage|iws|veths]... [--runs N] [--size-mb N] [--small-files N]");
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
var benches = rest.Count == 0 ? ["startup", "archive", "content", "storage"] : rest;
var report = new Report();

foreach (var bench in benches)
{
    switch (bench)
    {
        case "startup":
            await StartupBench.RunAsync(root, runsOption ?? 9, report);
            break;
        case "archive":
            await ArchiveBench.RunAsync(root, runsOption ?? 3, sizeMb, smallFiles, report);
            break;
        case "content":
            await ContentBench.RunAsync(root, sizeMb, smallFiles, report);
            break;
        case "storage":
            await StorageBench.RunAsync(root, sizeMb, smallFiles, report);
            break;
        case "iws":
            await IwsBench.RunAsync(root, runsOption ?? 200, report);
            break;
        case "veths":
            await NetworkBench.RunAsync(root, runsOption ?? 50, report);
            break;
        default:
            Console.Error.WriteLine($"unknown benchmark '{bench}'; known: startup, archive, content, storage, iws, veths");
            return 2;
    }
}
if (!report.IsEmpty)
    report.Write(Path.Combine(root, "out", "bench"), Environment.GetEnvironmentVariable("WSD_COMMIT") ?? "unknown");
return 0;
