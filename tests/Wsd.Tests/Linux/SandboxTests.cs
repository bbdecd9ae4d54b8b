using System.Diagnostics;
using Wsd.Linux.Sandbox;
using Wsd.Tests.Support;

namespace Wsd.Tests.Linux;

/// <summary>
/// The sandbox every git command runs in, driven directly with a shell as the confined program:
/// what it can see, who it is, what it may do, and that its deadline ends every process it started.
/// The AOT binary builds the sandbox (it is the daemon's own binary that does so in production).
/// </summary>
public class SandboxTests
{
    const uint WorkspaceUser = 133332;

    static SandboxLauncher Launcher() => new(RepositoryPaths.DaemonBinary, WorkspaceUser, WorkspaceUser);

    /// <summary>A workspace-like directory whose "checkout" is the bind, and a secret beside it that must stay unseen.</summary>
    sealed class Scene : IDisposable
    {
        public readonly TempDirectory Dir = new();
        public string Content => Dir.Combine("workspaces", "ws-1");
        public string Checkout => Path.Combine(Content, "repo");

        public Scene()
        {
            Directory.CreateDirectory(Checkout);
            Tools.Ok("chown", "/", "-R", $"{WorkspaceUser}:{WorkspaceUser}", Content);
            Directory.CreateDirectory(Dir.Combine("secrets"));
            File.WriteAllText(Dir.Combine("secrets", "key"), "do-not-read");
            File.WriteAllText(Dir.Combine("workspaces", "ws-2.workspace.json"), "{}");
        }

        public SandboxCommand Shell(string script, bool writable = true, bool network = false, TimeSpan? timeout = null, int outputLimit = 64 * 1024) => new()
        {
            Program = "sh",
            Arguments = ["-c", script],
            Environment = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" },
            Binds = [new SandboxBind(Content, "repo", Checkout, writable)],
            WorkingDirectory = Checkout,
            Network = network,
            Timeout = timeout ?? TimeSpan.FromSeconds(30),
            OutputLimit = outputLimit,
        };

        public void Dispose() => Dir.Dispose();
    }

    static async Task<SandboxResult> Run(SandboxCommand command, OutputLine? onLine = null) =>
        await Launcher().RunAsync(command, onLine, CancellationToken.None);

    [Fact]
    public async Task TheProgramIsTheWorkspaceUserWithoutCapabilitiesOrNewPrivileges()
    {
        Tools.RequireRoot("a sandbox maps the workspace user");
        using var scene = new Scene();

        var result = await Run(scene.Shell("id -u; cat /proc/self/uid_map; grep -E '^(CapEff|CapPrm|CapBnd|CapAmb|NoNewPrivs)' /proc/self/status; touch made-inside"));

        Assert.Equal(0, result.ExitCode);
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("0", lines[0]);
        Assert.Equal(["0", WorkspaceUser.ToString(), "1"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("CapEff:\t0000000000000000", lines);
        Assert.Contains("CapPrm:\t0000000000000000", lines);
        Assert.Contains("CapBnd:\t0000000000000000", lines);
        Assert.Contains("CapAmb:\t0000000000000000", lines);
        Assert.Contains("NoNewPrivs:\t1", lines);
        var made = TreeSnapshot.Stat(Path.Combine(scene.Checkout, "made-inside"));
        Assert.Equal((WorkspaceUser, WorkspaceUser), (made.Uid, made.Gid)); // on the node, files are the workspace user's
    }

    [Fact]
    public async Task OnlyTheCheckoutAndTheSystemAreVisible()
    {
        Tools.RequireRoot("a sandbox maps the workspace user");
        using var scene = new Scene();

        var result = await Run(scene.Shell(
            $"ls -A /; echo ---; ls -A /proc | grep -cE '^[0-9]+$'; echo ---; ls {scene.Dir.Path}; echo ---; cat {scene.Dir.Combine("secrets", "key")} 2>&1; echo ---; ls -A /run"));

        var parts = result.Output.Split("---\n");
        var root = parts[0].Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(n => !n.StartsWith("lib", StringComparison.Ordinal)).ToHashSet();
        Assert.Subset(new HashSet<string> { "bin", "dev", "etc", "proc", "run", "sbin", "tmp", "usr" }, root);
        Assert.True(int.Parse(parts[1].Trim()) <= 4, $"the sandbox's /proc lists its own PID namespace only, saw {parts[1].Trim()} processes");
        Assert.Equal("workspaces", parts[2].Trim()); // nothing beside the workspace, no session files of others
        Assert.Contains("No such file", parts[3]);
        Assert.DoesNotContain("do-not-read", result.Output);
        Assert.Equal("wsd", parts[4].Trim()); // /run holds the askpass program only
        var inside = await Run(scene.Shell($"ls -A {Path.GetDirectoryName(scene.Content)}"));
        Assert.Equal("ws-1", inside.Output.Trim());
    }

    [Fact]
    public async Task AReadOnlyCheckoutCannotBeWrittenAndTheRootCannotEither()
    {
        Tools.RequireRoot("a sandbox maps the workspace user");
        using var scene = new Scene();

        var result = await Run(scene.Shell("touch x 2>&1; touch /usr/x 2>&1; touch /x 2>&1; mkdir /tmp/ok && echo tmp-ok", writable: false));

        Assert.Equal(3, result.Output.Split('\n').Count(l => l.Contains("Read-only file system", StringComparison.Ordinal)));
        Assert.Contains("tmp-ok", result.Output);
        Assert.False(File.Exists(Path.Combine(scene.Checkout, "x")));
    }

    [Fact]
    public async Task WithoutNetworkThereIsOnlyALoopbackThatIsDown()
    {
        Tools.RequireRoot("a sandbox maps the workspace user");
        using var scene = new Scene();

        var offline = await Run(scene.Shell("cat /proc/net/dev"));
        var online = await Run(scene.Shell("cat /proc/net/dev", network: true));

        var interfaces = offline.Output.Split('\n').Skip(2).Where(l => l.Contains(':')).Select(l => l.Split(':')[0].Trim()).ToList();
        Assert.Equal(["lo"], interfaces);
        Assert.Equal(File.ReadAllLines("/proc/net/dev").Length, online.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task TheDeadlineKillsEveryProcessTheProgramStarted()
    {
        Tools.RequireRoot("a sandbox maps the workspace user");
        using var scene = new Scene();
        string marker = "wsd-sandbox-" + Guid.NewGuid().ToString("N")[..8];

        var clock = Stopwatch.StartNew();
        // A child that ignores the signals a shell would pass on, detached in a new session.
        var result = await Run(scene.Shell($"setsid sh -c 'trap \"\" TERM HUP; exec sleep 1000 {marker}' & sleep 1000", timeout: TimeSpan.FromSeconds(2)));
        clock.Stop();

        Assert.True(result.TimedOut);
        Assert.InRange(clock.Elapsed.TotalSeconds, 1.5, 10);
        await Task.Delay(200);
        var survivors = Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit))
            .Where(pid => { try { return File.ReadAllText($"/proc/{pid}/cmdline").Contains(marker, StringComparison.Ordinal); } catch (IOException) { return false; } })
            .ToList();
        Assert.Empty(survivors);
    }

    [Fact]
    public async Task DescriptorsTheDaemonInheritedDoNotReachTheProgram()
    {
        Tools.RequireRoot("a sandbox maps the workspace user");
        using var scene = new Scene();
        string inherited = scene.Dir.Combine("inherited");
        File.WriteAllText(inherited, "a supervisor's descriptor");
        int fd = OpenInheritable(inherited);
        try
        {
            var result = await Run(scene.Shell("for f in /proc/self/fd/*; do readlink $f; done"));

            Assert.DoesNotContain("inherited", result.Output);
        }
        finally
        {
            Wsd.Interop.Libc.Close(fd);
        }
    }

    // Without O_CLOEXEC, as flock(1) leaves its lock to the command it runs.
    static unsafe int OpenInheritable(string path)
    {
        fixed (byte* p = Wsd.Interop.CStrings.Of(path))
            return Wsd.Interop.Libc.OpenAt(Wsd.Interop.AtFlags.CurrentDirectory, p, Wsd.Interop.OpenFlags.ReadOnly, 0);
    }

    [Fact]
    public async Task OutputIsKeptOnlyUpToItsBoundAndLinesAreCut()
    {
        Tools.RequireRoot("a sandbox maps the workspace user");
        using var scene = new Scene();

        var captured = await Run(scene.Shell("head -c 10000000 /dev/zero | tr '\\0' a; head -c 3000000 /dev/zero >&2", outputLimit: 1000));
        Assert.Equal(0, captured.ExitCode);
        Assert.StartsWith(new string('a', 1000) + "\n[9999000 more bytes not kept]", captured.Output);
        Assert.EndsWith("[2999000 more bytes not kept]", captured.Error);

        var lines = new List<string>();
        await Run(scene.Shell("head -c 100000 /dev/zero | tr '\\0' b; echo; echo short"), line => lines.Add(System.Text.Encoding.UTF8.GetString(line)));
        Assert.Equal([new string('b', SandboxLauncher.MaxLineBytes), "short"], lines);
    }
}
