using Wsd.Config;
using Wsd.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace Wsd.Tests.Deploy;

/// <summary>
/// deploy/'s manifests parse, and hold what the daemon needs: the ConfigMap's config passes the
/// daemon's own loader and validator (and <c>wsd config validate</c>), every path it names is
/// mounted into the container, and the DaemonSet has what docs/compatibility.md#deployment asks
/// (privileged, hostPID, probes on the health port, node-critical priority, a memory request).
/// </summary>
public class ManifestTests
{
    static readonly string Deploy = Path.Combine(RepositoryPaths.Root, "deploy");

    static List<YamlMappingNode> Documents()
    {
        var documents = new List<YamlMappingNode>();
        foreach (var file in Directory.GetFiles(Deploy, "*.yaml"))
        {
            var stream = new YamlStream();
            using var reader = new StreamReader(file);
            stream.Load(reader);
            documents.AddRange(stream.Documents.Select(d => (YamlMappingNode)d.RootNode));
        }
        return documents;
    }

    static YamlMappingNode Of(string kind, string? name = null) =>
        Documents().Single(d => Text(d, "kind") == kind && (name is null || Text(d, "metadata", "name") == name));

    static YamlNode? At(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var next))
                return null;
            node = next;
        }
        return node;
    }

    static string? Text(YamlNode node, params string[] path) => (At(node, path) as YamlScalarNode)?.Value;

    static IEnumerable<YamlMappingNode> Items(YamlNode node, params string[] path) =>
        (At(node, path) as YamlSequenceNode)?.Children.Cast<YamlMappingNode>() ?? [];

    static string ConfigJson() => Text(Of("ConfigMap", "wsd-config"), "data", "config.json") ?? throw new InvalidOperationException("no config.json in wsd-config");

    static YamlMappingNode Container() => Items(Of("DaemonSet", "wsd"), "spec", "template", "spec", "containers").Single(c => Text(c, "name") == "wsd");

    // The validator checks that key and certificate files exist; in the pod they come from the
    // secrets, here they do not: those complaints, and only those, are expected.
    static List<string> ProblemsBesidesSecretFiles(IEnumerable<string> problems)
    {
        var secretDirectories = Items(Container(), "volumeMounts")
            .Where(m => Items(Of("DaemonSet", "wsd"), "spec", "template", "spec", "volumes").Any(v => Text(v, "name") == Text(m, "name") && At(v, "secret") is not null))
            .Select(m => Text(m, "mountPath")!).ToList();
        return problems.Where(p => !(p.Contains(" does not exist", StringComparison.Ordinal)
            && secretDirectories.Any(d => p.Contains($"file '{d}/", StringComparison.Ordinal)))).ToList();
    }

    [Fact]
    public void TheConfigMapsConfigIsValid()
    {
        var config = ConfigLoader.Parse(System.Text.Encoding.UTF8.GetBytes(ConfigJson()), "deploy/configmap.yaml");

        Assert.Empty(ProblemsBesidesSecretFiles(ConfigValidator.Validate(config)));
        Assert.Equal(RuntimeKind.Containerd, config.Runtime.Kind);
        Assert.NotNull(config.Service.Tls);
        Assert.NotEmpty(config.Service.Tls!.CaPath); // mTLS: clients must present certificates
    }

    [Fact]
    public void WsdConfigValidateFindsNothingElseWrong()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.Combine("config.json"), ConfigJson());

        var result = Tools.Run(RepositoryPaths.DaemonBinary, dir.Path, "config", "validate", "config.json");

        var problems = result.Stderr.Split("; ").Select(p => p.Trim()).Where(p => p.Length > 0);
        Assert.Empty(ProblemsBesidesSecretFiles(problems.Select(p => p[(p.LastIndexOf("config.json: ", StringComparison.Ordinal) is var at and >= 0 ? at + 13 : 0)..])));
    }

    [Fact]
    public void EveryPathTheConfigNamesIsMountedIntoTheContainer()
    {
        var config = ConfigLoader.Parse(System.Text.Encoding.UTF8.GetBytes(ConfigJson()), "deploy/configmap.yaml");
        var mounts = Items(Container(), "volumeMounts").ToDictionary(m => Text(m, "mountPath")!, m => m);
        var volumes = Items(Of("DaemonSet", "wsd"), "spec", "template", "spec", "volumes").ToDictionary(v => Text(v, "name")!, v => v);
        YamlMappingNode MountOf(string path) =>
            mounts.Where(m => path == m.Key || path.StartsWith(m.Key.TrimEnd('/') + "/", StringComparison.Ordinal)).Select(m => m.Value).SingleOrDefault()
                ?? throw new Xunit.Sdk.XunitException($"{path} (named by the config) is on no volume mount of the container");

        foreach (var path in (string[])[config.Service.Tls!.CertPath, config.Service.Tls.KeyPath, config.Service.Tls.CaPath,
                     config.Content.WorkingArea, config.Content.Storage.S3.AccessKeyFile, config.Content.Storage.S3.SecretKeyFile,
                     config.Runtime.Containerd.Socket, config.Runtime.Containerd.State, config.Runtime.CgroupRoot, "/etc/wsd/config.json"])
        {
            var mount = MountOf(path);
            Assert.True(volumes.ContainsKey(Text(mount, "name")!), $"volume {Text(mount, "name")} of {path} is not declared");
        }
        // The marks wsd mounts in the working area must propagate to the node (and the workspace pods).
        Assert.Equal("Bidirectional", Text(MountOf(config.Content.WorkingArea), "mountPropagation"));
        Assert.Equal("/sys/fs/cgroup", Text(volumes[Text(MountOf(config.Runtime.CgroupRoot), "name")!], "hostPath", "path"));
        // Every secret a volume names is one deploy/ describes, with the keys the config reads.
        foreach (var volume in volumes.Values.Where(v => At(v, "secret") is not null))
        {
            string secret = Text(volume, "secret", "secretName")!;
            // YAML 1.1 reads 0400 as octal 256; Kubernetes takes either form.
            Assert.True(Text(volume, "secret", "defaultMode") is "0400" or "256", $"secret {secret} is mounted readable by more than root");
            var data = (YamlMappingNode)At(Of("Secret", secret), "stringData")!;
            string mountPath = mounts.Values.Where(m => Text(m, "name") == Text(volume, "name")).Select(m => Text(m, "mountPath")!).Single();
            foreach (var path in (string[])[config.Service.Tls.CertPath, config.Service.Tls.KeyPath, config.Service.Tls.CaPath,
                         config.Content.Storage.S3.AccessKeyFile, config.Content.Storage.S3.SecretKeyFile])
            {
                if (Path.GetDirectoryName(path) == mountPath)
                    Assert.True(data.Children.ContainsKey(new YamlScalarNode(Path.GetFileName(path))), $"secret {secret} has no key {Path.GetFileName(path)} for {path}");
            }
        }
    }

    [Fact]
    public void TheDaemonSetIsPrivilegedOnTheNodesPidsWithProbesAndAMemoryRequest()
    {
        var config = ConfigLoader.Parse(System.Text.Encoding.UTF8.GetBytes(ConfigJson()), "deploy/configmap.yaml");
        var pod = At(Of("DaemonSet", "wsd"), "spec", "template", "spec")!;
        static int PortOf(string address) => ListenAddress.TryParse(address, out var endPoint, out string error) ? endPoint.Port : throw new FormatException(error);
        var container = Container();

        Assert.Equal("true", Text(pod, "hostPID"));
        Assert.Equal("system-node-critical", Text(pod, "priorityClassName"));
        Assert.Equal("true", Text(container, "securityContext", "privileged"));
        Assert.Equal(["run", "--config", "/etc/wsd/config.json"], ((YamlSequenceNode)At(container, "args")!).Children.Select(c => ((YamlScalarNode)c).Value!));
        int healthPort = PortOf(config.Health.Address);
        var ports = Items(container, "ports").ToDictionary(p => Text(p, "name")!, p => int.Parse(Text(p, "containerPort")!));
        Assert.Equal(healthPort, ports["health"]);
        Assert.Equal(PortOf(config.Service.Address), ports["grpc"]);
        Assert.Equal("/ready", Text(container, "readinessProbe", "httpGet", "path"));
        Assert.Equal("/live", Text(container, "livenessProbe", "httpGet", "path"));
        Assert.Equal("health", Text(container, "readinessProbe", "httpGet", "port"));
        Assert.Equal("health", Text(container, "livenessProbe", "httpGet", "port"));
        Assert.Matches("^[0-9]+Mi$", Text(container, "resources", "requests", "memory"));
        Assert.StartsWith("0.0.0.0:", config.Health.Address); // the kubelet probes the pod's address
    }
}
