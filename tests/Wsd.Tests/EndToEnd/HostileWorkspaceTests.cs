using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Wsd.Api.ContentService;
using Wsd.Api.WsDaemon;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>
/// The hostile-workspace corpus (docs/security.md), beside the hostile-archive one: a workspace user
/// who controls every byte of the checkout, its .git/config included, against the AOT daemon. Each
/// case plants its attack, lets the daemon do what it does with a workspace (dispose with its git
/// status and backup, clone with credentials), and checks a canary outside the workspace that the
/// workspace user could write to on the node: only the sandbox keeps it untouched.
/// </summary>
public class HostileWorkspaceTests
{
    const uint WorkspaceUser = 133332;

    // A tracked file changed without changing its size: git status must read its content, through the clean filter.
    const string SameSize = "# HELLO\n";

    sealed class Scene : IAsyncDisposable
    {
        public readonly TempDirectory Dir = new();
        public GitRepository Repo = null!;
        public DaemonProcess Daemon = null!;
        public string Canary => Dir.Combine("canary");
        public string Checkout(string id = "ws-1") => Dir.Combine("workspaces", id, "repo");

        public static async Task<Scene> StartAsync(Action<Scene>? prepareRemote = null, string statusTimeout = "3s")
        {
            var scene = new Scene();
            Directory.CreateDirectory(scene.Canary);
            File.SetUnixFileMode(scene.Canary, (UnixFileMode)0x1FF); // 0777: the node would let the workspace user write here
            scene.Repo = GitRepository.CreateBare(scene.Dir);
            prepareRemote?.Invoke(scene);
            scene.Daemon = await DaemonProcess.StartAsync(scene.Dir, config =>
                config["content"]!["git"] = new JsonObject { ["statusTimeout"] = statusTimeout, ["commandTimeout"] = "60s" });
            return scene;
        }

        public async Task InitAsync(string id, CloneTargetMode mode = CloneTargetMode.RemoteHead, string target = "") =>
            await Daemon.Content.InitWorkspaceAsync(new InitWorkspaceRequest
            {
                Id = id,
                Metadata = new WorkspaceMetadata { Owner = "user-1", MetaId = "meta-" + id },
                Initializer = new WorkspaceInitializer
                {
                    Git = new GitInitializer { RemoteUri = Repo.Url, TargetMode = mode, CloneTaget = target, CheckoutLocation = "repo", Config = new GitConfig() },
                },
            }, deadline: DateTime.UtcNow.AddMinutes(1));

        /// <summary>ws-1 and ws-2 from the same remote; ws-1 has a local commit that ws-2's status must never show.</summary>
        public async Task InitTwoWithASecretInTheFirstAsync()
        {
            await InitAsync("ws-1");
            await InitAsync("ws-2");
            Tools.Ok("git", Checkout("ws-1"), "-c", "safe.directory=*", "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", "the other user's secret plan");
        }

        /// <summary>What the workspace user does: appends to .git/config, writes files, all owned by them.</summary>
        public void Plant(string id, string gitConfig, params (string Path, string Content)[] files)
        {
            if (gitConfig.Length > 0)
                File.AppendAllText(Path.Combine(Checkout(id), ".git", "config"), gitConfig);
            foreach (var (path, content) in files)
            {
                string full = Path.Combine(Checkout(id), path);
                File.WriteAllText(full, content);
                if (content.StartsWith("#!", StringComparison.Ordinal))
                    File.SetUnixFileMode(full, (UnixFileMode)0x1ED);
            }
            Tools.Ok("chown", "/", "-R", $"{WorkspaceUser}:{WorkspaceUser}", Dir.Combine("workspaces", id));
        }

        /// <summary>A script that leaves a mark in the canary, for config keys that name a program.</summary>
        public string Script(string name) => $"#!/bin/sh\ntouch {Canary}/{name}\ncat\n";

        public async Task<(DisposeWorkspaceResponse Response, TimeSpan Took)> DisposeAsync(string id, bool backup = true)
        {
            var clock = Stopwatch.StartNew();
            var response = await Daemon.Content.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = id, Backup = backup },
                deadline: DateTime.UtcNow.AddSeconds(90));
            return (response, clock.Elapsed);
        }

        public IEnumerable<string> CanaryMarks() => Directory.EnumerateFileSystemEntries(Canary).Select(Path.GetFileName)!;

        public async ValueTask DisposeAsync()
        {
            await Daemon.DisposeAsync();
            Dir.Dispose();
        }
    }

    [Fact]
    public async Task ACleanFilterInTheRepositoryConfigNeverRunsOnTheNode()
    {
        Tools.RequireRoot("the daemon runs git as the workspace user");
        await using var scene = await Scene.StartAsync();
        await scene.InitAsync("ws-1");
        scene.Plant("ws-1", $"[filter \"x\"]\n\tclean = \"sh -c 'id > {scene.Canary}/filter; cat'\"\n\tsmudge = cat\n",
            (".gitattributes", "* filter=x\n"), ("README.md", SameSize));

        var (disposed, _) = await scene.DisposeAsync("ws-1");

        Assert.Empty(scene.CanaryMarks());
        Assert.Equal("main", disposed.GitStatus?.Branch); // git still worked, inside the sandbox
    }

    [Fact]
    public async Task AHangingFilterCostsTheDisposeOnlyTheStatusTimeoutAndTheBackupIsMade()
    {
        Tools.RequireRoot("the daemon runs git as the workspace user");
        await using var scene = await Scene.StartAsync();
        string marker = $"100000.{Random.Shared.Next(10_000_000, 99_999_999)}"; // a sleep that names itself
        await scene.InitAsync("ws-1");
        scene.Plant("ws-1", $"[filter \"x\"]\n\tclean = sleep {marker}\n", (".gitattributes", "* filter=x\n"), ("README.md", SameSize));

        var (disposed, took) = await scene.DisposeAsync("ws-1");

        TestContext.Current.TestOutputHelper?.WriteLine($"dispose with a hanging filter and statusTimeout 3 s took {took.TotalSeconds:F2} s");
        Assert.InRange(took.TotalSeconds, 2.5, 25); // content.git.statusTimeout is 3 s here, the backup a few KB
        Assert.Null(disposed.GitStatus);
        Assert.Contains("git status did not finish within 3 s", scene.Daemon.Output);
        Assert.False(Running(marker), "the hanging filter outlived its deadline");
        Assert.True(File.Exists(scene.Dir.Combine("storage", "local", "user-1", "workspaces", "meta-ws-1", "full.tar")));
    }

    [Fact]
    public async Task AHangingGitDiesWithTheDaemon()
    {
        Tools.RequireRoot("the daemon runs git as the workspace user");
        await using var scene = await Scene.StartAsync(statusTimeout: "5m");
        string marker = $"100000.{Random.Shared.Next(10_000_000, 99_999_999)}";
        await scene.InitAsync("ws-1");
        scene.Plant("ws-1", $"[filter \"x\"]\n\tclean = sleep {marker}\n", (".gitattributes", "* filter=x\n"), ("README.md", SameSize));

        var dispose = scene.DisposeAsync("ws-1", backup: false);
        for (int i = 0; i < 100 && !Running(marker); i++)
            await Task.Delay(100);
        Assert.True(Running(marker), "the hanging filter never started");
        Process.GetProcessById(scene.Daemon.Pid).Kill();
        await Assert.ThrowsAnyAsync<Grpc.Core.RpcException>(() => dispose);

        for (int i = 0; i < 50 && Running(marker); i++)
            await Task.Delay(100);
        Assert.False(Running(marker), "git outlived the daemon");
    }

    static bool Running(string marker) => Directory.EnumerateDirectories("/proc").Any(p =>
        Path.GetFileName(p).All(char.IsAsciiDigit) && SafeRead(Path.Combine(p, "cmdline")).Contains(marker, StringComparison.Ordinal));

    [Fact]
    public async Task AGpgProgramForASignedCommitNeverRunsOnTheNode()
    {
        Tools.RequireRoot("the daemon runs git as the workspace user");
        await using var scene = await Scene.StartAsync();
        await scene.InitAsync("ws-1");
        string checkout = scene.Checkout();
        string tree = Tools.Ok("git", checkout, "-c", "safe.directory=*", "write-tree").Trim();
        string commit = $"tree {tree}\nauthor a <a@b> 1700000000 +0000\ncommitter a <a@b> 1700000000 +0000\n" +
            "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n\nsigned\n";
        File.WriteAllText(scene.Dir.Combine("commit.txt"), commit);
        string id = Tools.Ok("git", checkout, "-c", "safe.directory=*", "hash-object", "-t", "commit", "-w", scene.Dir.Combine("commit.txt")).Trim();
        Tools.Ok("git", checkout, "-c", "safe.directory=*", "update-ref", "refs/heads/main", id);
        scene.Plant("ws-1", $"[log]\n\tshowSignature = true\n[gpg]\n\tprogram = {checkout}/.git/gpg.sh\n", (".git/gpg.sh", scene.Script("gpg")));

        await scene.DisposeAsync("ws-1");

        Assert.Empty(scene.CanaryMarks());
    }

    [Fact]
    public async Task ConfigIncludedFromOutsideTheWorkspaceIsNeverRead()
    {
        Tools.RequireRoot("the daemon runs git as the workspace user");
        await using var scene = await Scene.StartAsync();
        await scene.InitAsync("ws-1");
        // World-readable files on the node outside the workspace: its own user could have left them there.
        string outside = scene.Dir.Combine("elsewhere.config");
        File.WriteAllText(outside, $"[filter \"x\"]\n\tclean = \"sh -c 'touch {scene.Canary}/include; cat'\"\n");
        string conditional = scene.Dir.Combine("conditional.config");
        File.WriteAllText(conditional, $"[filter \"y\"]\n\tclean = \"sh -c 'touch {scene.Canary}/includeIf; cat'\"\n");
        scene.Plant("ws-1", $"[include]\n\tpath = {outside}\n[includeIf \"gitdir:/\"]\n\tpath = {conditional}\n",
            (".gitattributes", "README.md filter=x\nsrc/* filter=y\n"), ("README.md", SameSize), ("src/main.c", "int main(void) { return 1; }\n"));

        await scene.DisposeAsync("ws-1");

        Assert.Empty(scene.CanaryMarks());
    }

    [Fact]
    public async Task ProgramsNamedByFsmonitorDiffAndPagerKeysNeverRunOnTheNode()
    {
        Tools.RequireRoot("the daemon runs git as the workspace user");
        await using var scene = await Scene.StartAsync();
        await scene.InitAsync("ws-1");
        string git = Path.Combine(scene.Checkout(), ".git");
        scene.Plant("ws-1", $"[core]\n\tfsmonitor = {git}/fsmonitor.sh\n\tpager = {git}/pager.sh\n[diff]\n\texternal = {git}/diff.sh\n[status]\n\tshowUntrackedFiles = all\n",
            (".git/fsmonitor.sh", scene.Script("fsmonitor")), (".git/pager.sh", scene.Script("pager")), (".git/diff.sh", scene.Script("diff")), ("README.md", "# changed\n"));

        var (disposed, _) = await scene.DisposeAsync("ws-1");

        Assert.Empty(scene.CanaryMarks());
        Assert.Contains("README.md", disposed.GitStatus.UncommitedFiles);
    }

    [Fact]
    public async Task ACheckoutReplacedByASymlinkToAnotherWorkspaceReportsNoStatus()
    {
        Tools.RequireRoot("the daemon runs git as the workspace user");
        await using var scene = await Scene.StartAsync();
        await scene.InitTwoWithASecretInTheFirstAsync();
        Directory.Delete(scene.Checkout("ws-2"), recursive: true);
        File.CreateSymbolicLink(scene.Checkout("ws-2"), scene.Checkout("ws-1"));

        var (disposed, _) = await scene.DisposeAsync("ws-2", backup: false);

        Assert.Null(disposed.GitStatus);
    }

    [Fact]
    public async Task ADotGitFilePointingAtAnotherWorkspaceReportsNoStatus()
    {
        Tools.RequireRoot("the daemon runs git as the workspace user");
        await using var scene = await Scene.StartAsync();
        await scene.InitTwoWithASecretInTheFirstAsync();
        Directory.Delete(Path.Combine(scene.Checkout("ws-2"), ".git"), recursive: true);
        scene.Plant("ws-2", "", (".git", $"gitdir: {Path.Combine(scene.Checkout("ws-1"), ".git")}\n"));

        var (disposed, _) = await scene.DisposeAsync("ws-2", backup: false);

        Assert.DoesNotContain("secret plan", disposed.GitStatus?.ToString() ?? "");
    }

    [Fact]
    public async Task TheRemotesDefaultBranchCannotInjectAnOptionIntoFetch()
    {
        Tools.RequireRoot("the daemon runs git as the workspace user");
        string? evil = null;
        await using var scene = await Scene.StartAsync(s =>
        {
            // The remote's HEAD names a "branch" that is really an option running a program of the remote's choosing.
            evil = s.Dir.Combine("upload-pack.sh");
            File.WriteAllText(evil, $"#!/bin/sh\ntouch {s.Canary}/upload-pack\nexec git-upload-pack \"$@\"\n");
            File.SetUnixFileMode(evil, (UnixFileMode)0x1ED);
            string head = Tools.Ok("git", s.Repo.Path, "-c", "safe.directory=*", "rev-parse", "main").Trim();
            Tools.Ok("git", s.Repo.Path, "-c", "safe.directory=*", "update-ref", $"refs/heads/--upload-pack={evil}", head);
            Tools.Ok("git", s.Repo.Path, "-c", "safe.directory=*", "symbolic-ref", "HEAD", $"refs/heads/--upload-pack={evil}");
            Tools.Ok("chown", "/", "-R", $"{WorkspaceUser}:{WorkspaceUser}", s.Repo.Path);
        });

        var e = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => scene.InitAsync("ws-1", CloneTargetMode.RemoteBranch, "no-such-branch"));

        Assert.Empty(scene.CanaryMarks());
        Assert.Equal(Grpc.Core.StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("is not a usable branch name", e.Status.Detail);
    }

    [Fact]
    public async Task ASubmoduleOnAnotherHostNeverGetsThePassword()
    {
        Tools.RequireRoot("the daemon runs git as the workspace user");
        await using var origin = await TestHttpServer.StartAsync();
        await using var other = await TestHttpServer.StartAsync();
        var sent = new System.Collections.Concurrent.ConcurrentQueue<string>();
        other.Map("/", context =>
        {
            sent.Enqueue(context.Request.Headers.Authorization.ToString());
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"other\"";
            return Task.CompletedTask;
        });
        await using var scene = await Scene.StartAsync(s =>
        {
            origin.ServeGit(s.Dir.Path, "carol", "pw");
            string work = s.Dir.Combine("app-work");
            Directory.CreateDirectory(work);
            GitRepository.Git(work, "init", "-q", "-b", "main");
            Tools.Ok("chown", "/", "-R", "0:0", s.Repo.Path); // root's git adds the submodule from here
            GitRepository.Git(work, "-c", "protocol.file.allow=always", "submodule", "add", "-q", s.Repo.Url, "lib");
            GitRepository.Git(work, "config", "-f", ".gitmodules", "submodule.lib.url", $"{other.BaseUrl}/collect.git");
            GitRepository.Git(work, "add", ".gitmodules");
            GitRepository.Git(work, "commit", "-q", "-m", "a submodule elsewhere");
            GitRepository.Git(s.Dir.Path, "clone", "-q", "--bare", work, s.Dir.Combine("app.git"));
            Tools.Ok("chown", "/", "-R", $"{WorkspaceUser}:{WorkspaceUser}", s.Dir.Combine("app.git"));
        });

        await scene.Daemon.Content.InitWorkspaceAsync(new InitWorkspaceRequest
        {
            Id = "ws-1",
            Metadata = new WorkspaceMetadata { Owner = "user-1", MetaId = "meta-1" },
            Initializer = new WorkspaceInitializer
            {
                Git = new GitInitializer
                {
                    RemoteUri = $"{origin.BaseUrl}/git/app.git", CheckoutLocation = "app",
                    Config = new GitConfig { Authentication = GitAuthMethod.BasicAuth, AuthUser = "carol", AuthPassword = "pw" },
                },
            },
        }, deadline: DateTime.UtcNow.AddMinutes(1));

        Assert.True(File.Exists(scene.Dir.Combine("workspaces", "ws-1", "app", ".gitmodules"))); // the clone itself got its credentials
        Assert.NotEmpty(sent); // git did ask the other host
        string password = Convert.ToBase64String(Encoding.UTF8.GetBytes("carol:pw"));
        Assert.DoesNotContain(sent, header => header.Contains(password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AFailedCloneNamesNeitherItsConfigValuesNorTheUrlsUserInfo()
    {
        Tools.RequireRoot("the daemon runs git as the workspace user");
        await using var scene = await Scene.StartAsync();

        var e = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => scene.Daemon.Content.InitWorkspaceAsync(new InitWorkspaceRequest
        {
            Id = "ws-1",
            Metadata = new WorkspaceMetadata { Owner = "user-1", MetaId = "meta-1" },
            Initializer = new WorkspaceInitializer
            {
                Git = new GitInitializer
                {
                    RemoteUri = "http://carol:url-secret@127.0.0.1:9/nothing.git", CheckoutLocation = "repo",
                    Config = new GitConfig { CustomConfig = { ["http.extraHeader"] = "Authorization: Bearer header-secret" } },
                },
            },
        }, deadline: DateTime.UtcNow.AddMinutes(1)).ResponseAsync);

        Assert.Contains("git clone", e.Status.Detail);
        Assert.DoesNotContain("header-secret", e.Status.Detail);
        Assert.DoesNotContain("url-secret", e.Status.Detail);
        Assert.DoesNotContain("header-secret", scene.Daemon.Output);
        Assert.DoesNotContain("url-secret", scene.Daemon.Output);
        var session = scene.Dir.Combine("workspaces", "ws-1.workspace.json");
        if (File.Exists(session))
            Assert.DoesNotContain("secret", File.ReadAllText(session));
    }

    static string SafeRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }
}
