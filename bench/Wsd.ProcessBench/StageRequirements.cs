namespace Wsd.ProcessBench;

/// <summary>
/// What each stage needs from the machine, checked before it starts: a stage that lacks something
/// is recorded in the report as skipped with the reason, instead of failing part-way and costing
/// the stages after it. <c>./build.sh bench</c> installs all of it; this is for what it could not.
/// </summary>
static class StageRequirements
{
    /// <summary>Why <paramref name="stage"/> cannot run here, or null when it can.</summary>
    public static string? Missing(string stage, string root)
    {
        string aot = Daemon.Aot(root).FileName;
        var missing = new List<string>();
        void File(string path, string why)
        {
            if (!System.IO.File.Exists(path))
                missing.Add($"{path} ({why})");
        }
        void Tool(string name, string package)
        {
            if (OnPath(name) is null)
                missing.Add($"{name} (apt package {package})");
        }
        void Root()
        {
            if (Environment.UserName != "root")
                missing.Add("root");
        }

        switch (stage)
        {
            case "startup":
                File(aot, "./build.sh build");
                File(Daemon.Jit(root).PrefixArgs[0], "the JIT build ./build.sh bench publishes to out/jit");
                Tool("dotnet", "the .NET 10 SDK");
                break;
            case "archive":
            case "content":
                File(aot, "./build.sh build");
                Tool("tar", "tar");
                File("/usr/bin/time", "apt package time, for peak RSS");
                break;
            case "storage":
                File(aot, "./build.sh build");
                Tool("tar", "tar");
                File(StorageBench.ClusterScript(root), "the Ceph cluster script");
                Tool("ceph-mon", "ceph-mon");
                Tool("ceph-osd", "ceph-osd");
                Tool("radosgw", "radosgw");
                break;
            case "incremental":
                Root();
                File(aot, "./build.sh build");
                Tool("restic", "restic");
                Tool("borg", "borgbackup");
                Tool("git", "git");
                break;
            case "iws":
                Root();
                File(aot, "./build.sh build");
                Tool("unshare", "util-linux");
                Tool("nsenter", "util-linux");
                File("/usr/bin/busybox", "apt package busybox-static, the container's shell");
                break;
            case "veths":
                Root();
                File(aot, "./build.sh build");
                Tool("unshare", "util-linux");
                Tool("nsenter", "util-linux");
                Tool("ip", "iproute2");
                Tool("nft", "nftables");
                Tool("sysctl", "procps");
                break;
        }
        return missing.Count == 0 ? null : "missing " + string.Join(", ", missing);
    }

    static string? OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(path => System.IO.File.Exists(path) && (System.IO.File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0);
}
