namespace Wsd.Config;

/// <summary>Checks a parsed configuration; each problem names its key so an operator can fix it.</summary>
public static class ConfigValidator
{
    static readonly string[] LogLevels = ["trace", "debug", "info", "warning", "error", "critical"];

    public static List<string> Validate(WsdConfig config)
    {
        var problems = new List<string>();

        bool serviceOk = ListenAddress.TryParse(config.Service.Address, out var service, out var error);
        if (!serviceOk)
            problems.Add($"service.address: {error}");
        bool healthOk = ListenAddress.TryParse(config.Health.Address, out var health, out error);
        if (!healthOk)
            problems.Add($"health.address: {error}");
        if (serviceOk && healthOk && service.Port == health.Port)
            problems.Add("health.address: must use another port than service.address");

        if (config.Service.Tls is { } tls)
        {
            if (tls.CertPath.Length == 0 || tls.KeyPath.Length == 0)
                problems.Add("service.tls: certPath and keyPath are both required when tls is set");
            RequireFile(problems, "service.tls.certPath", tls.CertPath);
            RequireFile(problems, "service.tls.keyPath", tls.KeyPath);
            RequireFile(problems, "service.tls.caPath", tls.CaPath);
        }
        if (config.Service.ShutdownGracePeriod <= TimeSpan.Zero)
            problems.Add("service.shutdownGracePeriod: must be positive");
        if (config.Service.MaxReceiveMessageBytes < 4096)
            problems.Add("service.maxReceiveMessageBytes: must be at least 4096");

        if (!LogLevels.Contains(config.Log.Level))
            problems.Add($"log.level: '{config.Log.Level}' is not one of {string.Join(", ", LogLevels)}");

        if (config.Content.Backup.MaxConcurrent is < 1 or > 1000)
            problems.Add("content.backup.maxConcurrent: must be between 1 and 1000");
        if (config.Content.Backup.MaxWait <= TimeSpan.Zero)
            problems.Add("content.backup.maxWait: must be positive");
        if (config.Content.Backup.ChunkCompression is < -7 or > 19)
            problems.Add("content.backup.chunkCompression: must be a zstd level from -7 to 19, or 0 for none");
        if (config.Content.InitTimeout <= TimeSpan.Zero)
            problems.Add("content.initTimeout: must be positive");
        if (config.Content.Git.StatusTimeout <= TimeSpan.Zero)
            problems.Add("content.git.statusTimeout: must be positive");
        if (config.Content.Git.CommandTimeout <= TimeSpan.Zero)
            problems.Add("content.git.commandTimeout: must be positive");
        if (config.Runtime.Kind == RuntimeKind.Containerd && config.Runtime.Containerd.Socket.Length == 0)
            problems.Add("runtime.containerd.socket: must name containerd's socket");
        if (config.Runtime.Containerd.WaitForContainer < TimeSpan.Zero)
            problems.Add("runtime.containerd.waitForContainer: must not be negative");
        if (!WorkspaceCidr.TryParse(config.Runtime.WorkspaceCidr, out _, out string cidrProblem))
            problems.Add($"runtime.workspaceCidr: {cidrProblem}");
        if (config.Runtime.RootRange.Size == 0)
            problems.Add("runtime.rootRange.size: must be at least 1");
        foreach (var range in (IEnumerable<IdRangeConfig>)[config.Runtime.RootRange, .. config.Runtime.UserRanges])
        {
            if ((ulong)range.Start + range.Size > uint.MaxValue)
                problems.Add($"runtime ID range {range.Start}+{range.Size}: ends past the largest ID");
        }
        if (config.Content.MinFreeBytes < 0)
            problems.Add("content.minFreeBytes: must not be negative (0 turns the disk guard off)");
        if (string.IsNullOrWhiteSpace(config.Content.WorkingArea))
            problems.Add("content.workingArea: must not be empty");
        // The kinds and modes themselves were checked as they were read (ChoiceJsonConverter).
        if (config.Content.Storage.Kind == StorageKind.S3)
        {
            var s3 = config.Content.Storage.S3;
            if (s3.Bucket.Length == 0)
                problems.Add("content.storage.s3.bucket: required for the s3 storage kind");
            if (s3.Endpoint.Length > 0 && !Uri.TryCreate(s3.Endpoint, UriKind.Absolute, out _))
                problems.Add($"content.storage.s3.endpoint: '{s3.Endpoint}' is not an absolute URL");
            if ((s3.AccessKey.Length == 0 && s3.AccessKeyFile.Length == 0) || (s3.SecretKey.Length == 0 && s3.SecretKeyFile.Length == 0))
                problems.Add("content.storage.s3: accessKey (or accessKeyFile) and secretKey (or secretKeyFile) are required");
            RequireFile(problems, "content.storage.s3.accessKeyFile", s3.AccessKeyFile);
            RequireFile(problems, "content.storage.s3.secretKeyFile", s3.SecretKeyFile);
            RequireFile(problems, "content.storage.s3.caFile", s3.CaFile);
            if (s3.CaFile.Length > 0 && File.Exists(s3.CaFile) && !HoldsPemCertificate(s3.CaFile))
                problems.Add($"content.storage.s3.caFile: '{s3.CaFile}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
            if (s3.CaFile.Length > 0 && s3.Endpoint.Length > 0 && !s3.Endpoint.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
                problems.Add($"content.storage.s3.caFile: only trusted for an https endpoint, and '{s3.Endpoint}' is not one");
            if (s3.PartSizeMiB is < 5 or > 5120)
                problems.Add("content.storage.s3.partSizeMiB: must be between 5 and 5120 (S3's part limits)");
            if (s3.MaxRetries is < 0 or > 20)
                problems.Add("content.storage.s3.maxRetries: must be between 0 and 20");
            if (s3.ParallelParts is < 1 or > 64)
                problems.Add("content.storage.s3.parallelParts: must be between 1 and 64");
        }
        else
        {
            if (string.IsNullOrWhiteSpace(config.Content.Storage.Local.Root))
                problems.Add("content.storage.local.root: must not be empty");
            string bucket = config.Content.Storage.Local.Bucket;
            if (bucket.Length == 0 || bucket is "." or ".." || bucket.IndexOfAny(['/', '@', '\0']) >= 0)
                problems.Add($"content.storage.local.bucket: '{bucket}' must be a plain name without '/' or '@'");
        }

        return problems;
    }

    static bool HoldsPemCertificate(string path)
    {
        var certificates = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return false;
        }
        return certificates.Count > 0;
    }

    static void RequireFile(List<string> problems, string key, string path)
    {
        if (path.Length > 0 && !File.Exists(path))
            problems.Add($"{key}: file '{path}' does not exist");
    }
}
