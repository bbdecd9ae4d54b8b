using System.Diagnostics;
using System.Text.Json.Nodes;
using Wsd.Api.ContentService;
using Wsd.Api.WsDaemon;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>
/// The image's root file system, assembled from deploy/image's lists as <c>./build.sh rootfs</c>
/// does (files.list on a stand-in for the distroless base), runs the daemon on its own: pivot
/// into it with new mount, PID, UTS and IPC namespaces, only proc and a few device nodes from
/// outside. Nothing of the host's /usr is reachable, so every executable and library the daemon
/// and git use must be in the lists.
/// </summary>
public sealed class ImageRootfsTests
{
    [Fact]
    public async Task TheDaemonServesFromTheImageRootfsAloneClonesSnapshotsAndRestores()
    {
        Tools.RequireRoot("the test pivots into the root file system with new namespaces");
        Tools.Require("unshare", "util-linux");
        Tools.Require("pivot_root", "util-linux");
        Tools.Require("busybox", "busybox-static");
        using var dir = new TempDirectory();
        string rootfs = dir.Combine("rootfs");
        Tools.Ok("bash", "/", Path.Combine(RepositoryPaths.Root, "deploy", "image", "assemble.sh"), rootfs, RepositoryPaths.DaemonBinary, "--with-base");
        Assert.False(File.Exists(Path.Combine(rootfs, "usr", "bin", "tar")), "the root file system holds more than its lists");

        var repo = GitRepository.CreateBare(dir);
        Directory.CreateDirectory(Path.Combine(rootfs, "srv"));
        Tools.Ok("cp", "/", "-a", repo.Path, Path.Combine(rootfs, "srv", "origin.git"));
        int servicePort = FreePort.Next(), healthPort = FreePort.Next();
        var config = new JsonObject
        {
            ["service"] = new JsonObject { ["address"] = $"127.0.0.1:{servicePort}", ["shutdownGracePeriod"] = "5s" },
            ["health"] = new JsonObject { ["address"] = $"127.0.0.1:{healthPort}" },
            ["content"] = new JsonObject
            {
                ["workingArea"] = "/var/lib/wsd/workspaces",
                ["storage"] = new JsonObject { ["kind"] = "local", ["local"] = new JsonObject { ["root"] = "/var/lib/wsd/storage" } },
            },
        };
        string configPath = Path.Combine(rootfs, "etc", "wsd", "config.json");
        Directory.CreateDirectory(Path.GetDirectoryName(configPath)!);
        await File.WriteAllTextAsync(configPath, config.ToJsonString(), TestContext.Current.CancellationToken);
        // As a container runtime would: a private proc and /dev with the usual nodes, nothing else.
        string enter = dir.Combine("enter.sh");
        await File.WriteAllTextAsync(enter,
            "set -e\n" +
            "mount --make-rprivate /\n" +
            $"mount --bind {rootfs} {rootfs}\n" + // a mount of its own, to pivot into
            $"mkdir -p {rootfs}/proc {rootfs}/dev\n" +
            $"mount -t proc proc {rootfs}/proc\n" +
            $"mount -t tmpfs -o mode=0755 dev {rootfs}/dev\n" +
            $"for node in null zero random urandom; do touch {rootfs}/dev/$node; mount --bind /dev/$node {rootfs}/dev/$node; done\n" +
            // pivot_root, as a container runtime does, not chroot: the kernel refuses a new user
            // namespace (the git sandbox's) to a process whose root is not its mount namespace's root.
            $"cd {rootfs}\nmkdir -p .old-root\npivot_root . .old-root\n" +
            "old=/.old-root\n" +
            "$old/bin/busybox umount -l $old\n" + // static: it needs nothing of the old root but itself
            "exec /usr/local/bin/wsd run --config /etc/wsd/config.json\n", TestContext.Current.CancellationToken);
        var start = new ProcessStartInfo("unshare", ["--mount", "--pid", "--uts", "--ipc", "--fork", "--kill-child", "sh", enter]);

        await using var daemon = await DaemonProcess.LaunchAsync(start, servicePort, healthPort, configPath);

        // Other tests' daemons come and go meanwhile: a process gone between listing and reading is no match.
        // Its root, seen through /proc, is the root file system: our repository is there and the host's tar is not.
        static bool InRootfs(int pid)
        {
            try
            {
                return Directory.Exists($"/proc/{pid}/root/srv/origin.git") && !File.Exists($"/proc/{pid}/root/usr/bin/tar");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }
        Assert.Single(Process.GetProcessesByName("wsd").Select(p => p.Id), InRootfs);
        using var http = new HttpClient();
        Assert.True((await http.GetAsync(daemon.HealthUri("/live"), TestContext.Current.CancellationToken)).IsSuccessStatusCode);

        var client = daemon.Content;
        await client.InitWorkspaceAsync(new InitWorkspaceRequest
        {
            Id = "ws-a",
            Metadata = new WorkspaceMetadata { Owner = "user-1", MetaId = "ws-meta-1" },
            Initializer = new WorkspaceInitializer { Git = new GitInitializer { RemoteUri = "file:///srv/origin.git", CheckoutLocation = "repo", Config = new GitConfig() } },
        }, deadline: DateTime.UtcNow.AddMinutes(1), cancellationToken: TestContext.Current.CancellationToken);
        string area = Path.Combine(rootfs, "var", "lib", "wsd", "workspaces");
        Assert.Equal("# hello\n", await File.ReadAllTextAsync(Path.Combine(area, "ws-a", "repo", "README.md"), TestContext.Current.CancellationToken));
        Assert.DoesNotContain("git submodule update failed", daemon.Output); // git's shell-script commands run too

        var snapshot = await client.TakeSnapshotAsync(new TakeSnapshotRequest { Id = "ws-a" }, cancellationToken: TestContext.Current.CancellationToken);
        await client.InitWorkspaceAsync(new InitWorkspaceRequest
        {
            Id = "ws-b",
            Metadata = new WorkspaceMetadata { Owner = "user-2", MetaId = "ws-meta-2" },
            Initializer = new WorkspaceInitializer { Snapshot = new SnapshotInitializer { Snapshot = snapshot.Url } },
        }, deadline: DateTime.UtcNow.AddMinutes(1), cancellationToken: TestContext.Current.CancellationToken);

        string Listing(string id) => string.Join('\n', TreeSnapshot.Of(Path.Combine(area, id)).Split('\n').Where(l => !l.StartsWith(".gitpod", StringComparison.Ordinal)));
        Assert.Equal(Listing("ws-a"), Listing("ws-b"));
        string[] stored = Directory.GetFiles(Path.Combine(rootfs, "var", "lib", "wsd", "storage"), "*.tar", SearchOption.AllDirectories);
        Assert.Contains(stored, f => f.EndsWith(snapshot.Url.Split('@')[0], StringComparison.Ordinal));
    }
}
