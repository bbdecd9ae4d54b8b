using Wsd.ProcessBench;

// usage: Wsd.ProcessBench REPO_ROOT [startup] [--runs N]
if (args.Length < 1)
{
    Console.Error.WriteLine("usage: Wsd.ProcessBench REPO_ROOT [startup] [--runs N]");
    return 2;
}
string root = args[0];
var rest = args.Skip(1).ToList();
int runs = 9;
int runsAt = rest.IndexOf("--runs");
if (runsAt >= 0 && runsAt + 1 < rest.Count)
{
    runs = int.Parse(rest[runsAt + 1]);
    rest.RemoveRange(runsAt, 2);
}
var benches = rest.Count == 0 ? ["startup"] : rest;

foreach (var bench in benches)
{
    switch (bench)
    {
        case "startup":
            await StartupBench.RunAsync(root, runs);
            break;
        default:
            Console.Error.WriteLine($"unknown benchmark '{bench}'; known: startup");
            return 2;
    }
}
return 0;
