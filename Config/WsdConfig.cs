using System.Text.Json.Serialization;

namespace Wsd.Config;

/// <summary>
/// The whole configuration file. Every property has a default, and the defaults together are the
/// embedded default that <c>wsd run</c> serves without a file (docs/decisions.md#process-and-configuration).
/// </summary>
public sealed class WsdConfig
{
    /// <summary>The content API (wsdaemon.WorkspaceContentService) listener.</summary>
    public ServiceConfig Service { get; set; } = new();

    /// <summary>The HTTP listener for /ready, /live and /metrics.</summary>
    public HealthConfig Health { get; set; } = new();

    public LogConfig Log { get; set; } = new();

    public ContentConfig Content { get; set; } = new();

    /// <summary>How workspace containers are found and what the in-workspace service may do to them (docs/compatibility.md#in-workspace-service).</summary>
    public RuntimeConfig Runtime { get; set; } = new();
}

public sealed class ServiceConfig
{
    /// <summary><c>host:port</c> of the content API; an IP address, <c>localhost</c> or empty host for all.</summary>
    public string Address { get; set; } = "127.0.0.1:8080";

    /// <summary>Absent: plaintext HTTP/2. Present: TLS 1.2/1.3, and client certificates required when a CA is set.</summary>
    public TlsConfig? Tls { get; set; }

    /// <summary>How long running calls may take to finish after SIGTERM before the process exits anyway.</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Largest request message accepted; upstream allowed 100 MiB (docs/compatibility.md#transport).</summary>
    public int MaxReceiveMessageBytes { get; set; } = 100 * 1024 * 1024;
}

public sealed class TlsConfig
{
    /// <summary>PEM server certificate (chain).</summary>
    public string CertPath { get; set; } = "";

    /// <summary>PEM private key of the server certificate.</summary>
    public string KeyPath { get; set; } = "";

    /// <summary>PEM CA bundle; when set, every client must present a certificate signed by it.</summary>
    public string CaPath { get; set; } = "";
}

public sealed class HealthConfig
{
    /// <summary><c>host:port</c> serving /ready, /live and /metrics over HTTP/1.1.</summary>
    public string Address { get; set; } = "127.0.0.1:9500";
}

public sealed class LogConfig
{
    /// <summary>One of trace, debug, info, warning, error, critical; <c>--verbose</c> forces debug.</summary>
    public string Level { get; set; } = "info";
}

public sealed class ContentConfig
{
    /// <summary>Directory holding each workspace's content, service directory and session file (docs/compatibility.md#working-area-layout).</summary>
    public string WorkingArea { get; set; } = "./.wsd/workspaces";

    /// <summary>The disk guard: InitWorkspace is refused with RESOURCE_EXHAUSTED while the working area has less free (docs/decisions.md#quota-and-disk-guard).</summary>
    public long MinFreeBytes { get; set; } = 1L << 30;

    /// <summary>
    /// How long one InitWorkspace may take in all: at the deadline its waiters are answered, its work
    /// is cancelled and what it wrote removed (docs/faults.md).
    /// </summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan InitTimeout { get; set; } = TimeSpan.FromHours(2);

    public StorageConfig Storage { get; set; } = new();

    public BackupConfig Backup { get; set; } = new();

    public GitSandboxConfig Git { get; set; } = new();
}

/// <summary>The sandbox every git command runs in (docs/security.md): how long each may take.</summary>
public sealed class GitSandboxConfig
{
    /// <summary>
    /// Dispose's git status and log together: at the deadline the sandbox's whole process tree is
    /// killed and the dispose goes on without a git status.
    /// </summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan StatusTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Each git command of an initializer (clone, fetch, checkout, submodules).</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(30);
}

public sealed class BackupConfig
{
    /// <summary>Backups and snapshots running at once (upstream: 5, docs/compatibility.md#backups-and-snapshots).</summary>
    public int MaxConcurrent { get; set; } = 5;

    /// <summary>How long one waits for a free slot before it is refused with RESOURCE_EXHAUSTED.</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// <c>tar</c> (upstream's, the default) or <c>chunked</c>. Restores read either whatever this
    /// says (docs/chunked-backups.md).
    /// </summary>
    public BackupFormat Format { get; set; } = BackupFormat.Tar;

    /// <summary>
    /// For the chunked format: a zstd level (-7 to 19; -1, the default, is fast) for each new chunk
    /// where that saves a sixteenth, for the first 64 MiB of new chunks of each backup; 0 stores them
    /// as they are (docs/chunked-backups.md, "Compression").
    /// </summary>
    public int ChunkCompression { get; set; } = -1;
}

public sealed class StorageConfig
{
    /// <summary><c>local</c> (objects as files under <see cref="LocalStorageConfig.Root"/>) or <c>s3</c>.</summary>
    public StorageKind Kind { get; set; } = StorageKind.Local;

    public LocalStorageConfig Local { get; set; } = new();

    public S3StorageConfig S3 { get; set; } = new();
}

/// <summary>Any S3-compatible service: AWS S3, MinIO, Ceph RGW, GCS interoperability (docs/decisions.md#storage).</summary>
public sealed class S3StorageConfig
{
    /// <summary>Service URL, e.g. "https://s3.eu-central-1.amazonaws.com" or "http://minio:9000".</summary>
    public string Endpoint { get; set; } = "";
    public string Region { get; set; } = "us-east-1";
    /// <summary>The one shared bucket: objects are &lt;owner&gt;/workspaces/&lt;workspaceId&gt;/&lt;name&gt; (docs/compatibility.md#object-names).</summary>
    public string Bucket { get; set; } = "";
    /// <summary>Path-style addressing (endpoint/bucket/key), which MinIO and most self-hosted services want.</summary>
    public bool PathStyle { get; set; } = true;
    public string AccessKey { get; set; } = "";
    public string SecretKey { get; set; } = "";
    /// <summary>Files holding the keys; when set they win over the inline values (docs/compatibility.md#configuration-names).</summary>
    public string AccessKeyFile { get; set; } = "";
    public string SecretKeyFile { get; set; } = "";
    /// <summary>
    /// A PEM file of CA certificates trusted for an https endpoint besides the system's, for a
    /// service with a private CA (README, "S3 storage").
    /// </summary>
    public string CaFile { get; set; } = "";
    /// <summary>Multipart part size; memory per upload is partSizeMiB × (parallelParts + 1).</summary>
    public int PartSizeMiB { get; set; } = 16;
    public int ParallelParts { get; set; } = 3;
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromMinutes(5);
    /// <summary>Retries of one request on retryable errors, with exponential backoff.</summary>
    public int MaxRetries { get; set; } = 5;
}

public sealed class LocalStorageConfig
{
    public string Root { get; set; } = "./.wsd/storage";

    /// <summary>The bucket name: a directory under the root, and the part after '@' in snapshot URLs.</summary>
    public string Bucket { get; set; } = "local";
}

public sealed class RuntimeConfig
{
    /// <summary>
    /// <c>process</c>: each workspace container's init PID is in a file (or cgroup) the runtime
    /// writes; <c>containerd</c>: containerd's API on its socket names the container
    /// (docs/compatibility.md#finding-the-workspace-container).
    /// </summary>
    public RuntimeKind Kind { get; set; } = RuntimeKind.Process;

    public ProcessRuntimeConfig Process { get; set; } = new();

    public ContainerdRuntimeConfig Containerd { get; set; } = new();

    /// <summary>Where the cgroup v2 hierarchy is mounted (upstream's cgroupBasePath).</summary>
    public string CgroupRoot { get; set; } = "/sys/fs/cgroup";

    /// <summary>The node's /proc, as the daemon sees it (upstream's procLocation).</summary>
    public string Proc { get; set; } = "/proc";

    /// <summary>
    /// How a workspace's root file system is shifted to its user namespace
    /// (docs/decisions.md#in-workspace-service): <c>auto</c> (shiftfs where the kernel has it, else
    /// idmapped), <c>idmapped</c> or <c>shiftfs</c>.
    /// </summary>
    public FsShiftMode FsShift { get; set; } = FsShiftMode.Auto;

    /// <summary>The host IDs WriteIDMapping may map container root to (upstream: 33333, one ID).</summary>
    public IdRangeConfig RootRange { get; set; } = new() { Start = 33333, Size = 1 };

    /// <summary>The host IDs WriteIDMapping may map other container IDs to (upstream: 100000, 70000 IDs).</summary>
    public List<IdRangeConfig> UserRanges { get; set; } = [new() { Start = 100000, Size = 70000 }];

    /// <summary>
    /// The addresses SetupPairVeths gives a workspace's veth pair (docs/compatibility.md#setuppairveths):
    /// <c>veth0</c> in the pod's network namespace gets the address after the one written, the
    /// workspace's <c>eth0</c> the one after that. Every workspace uses the same range; each pod is its
    /// own network.
    /// </summary>
    public string WorkspaceCidr { get; set; } = "10.0.5.0/30";
}

public sealed class ProcessRuntimeConfig
{
    /// <summary>
    /// Directory holding <c>&lt;instanceId&gt;.pid</c> per running workspace container: the container
    /// init's PID as the node sees it, in decimal (what <c>runc --pid-file</c> writes). It must not be
    /// reachable from inside any workspace.
    /// </summary>
    public string PidDirectory { get; set; } = "./.wsd/containers";

    /// <summary>
    /// Where no pid file is, the container's cgroup under <c>runtime.cgroupRoot</c>, with
    /// <c>{instanceId}</c> replaced, e.g. <c>/workspaces/{instanceId}</c>: its init is the process
    /// in that subtree that is PID 1 of the outermost PID namespace there. Empty: pid files only.
    /// </summary>
    public string CgroupPattern { get; set; } = "";
}

public sealed class ContainerdRuntimeConfig
{
    /// <summary>containerd's gRPC socket (upstream's containerRuntime.containerd.socket).</summary>
    public string Socket { get; set; } = "/run/containerd/containerd.sock";

    /// <summary>The containerd namespace the kubelet's containers are in.</summary>
    public string Namespace { get; set; } = "k8s.io";

    /// <summary>containerd's state directory: a task's root file system is &lt;state&gt;/io.containerd.runtime.v2.task/&lt;namespace&gt;/&lt;id&gt;/rootfs.</summary>
    public string State { get; set; } = "/run/containerd";

    /// <summary>
    /// The Kubernetes namespace of workspace pods: a pod elsewhere with a workspace's labels is not
    /// that workspace (upstream indexed any, docs/compatibility.md#pods-of-other-namespaces). Empty: any
    /// namespace.
    /// </summary>
    public string PodNamespace { get; set; } = "default";

    /// <summary>How long a call waits for a workspace container that containerd has not reported yet (it may be starting).</summary>
    [JsonConverter(typeof(DurationJsonConverter))]
    public TimeSpan WaitForContainer { get; set; } = TimeSpan.FromSeconds(10);
}

public sealed class IdRangeConfig
{
    public uint Start { get; set; }
    public uint Size { get; set; }
}
