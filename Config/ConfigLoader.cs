using System.Text.Json;

namespace Wsd.Config;

/// <summary>Reads, checks and completes a configuration file.</summary>
public static class ConfigLoader
{
    /// <summary>Loads <paramref name="path"/>, or the embedded default when it is null.</summary>
    public static WsdConfig Load(string? path)
    {
        if (path is null)
            return Finish(new WsdConfig(), "embedded default");

        byte[] json;
        try
        {
            json = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{path}: cannot read: {e.Message}");
        }
        return Finish(Parse(json, path), path);
    }

    /// <summary>Parses configuration JSON; <paramref name="source"/> names it in error messages.</summary>
    public static WsdConfig Parse(ReadOnlySpan<byte> json, string source)
    {
        if (UnknownKeys.Find(json, ConfigJsonContext.Default.WsdConfig) is var (key, line))
            throw new ConfigException($"{source}: unknown key '{key}' (line {line})");
        try
        {
            return JsonSerializer.Deserialize(json, ConfigJsonContext.Default.WsdConfig)
                ?? throw new ConfigException($"{source}: the configuration must be a JSON object, not null");
        }
        catch (JsonException e)
        {
            throw new ConfigException($"{source}: {Describe(e)}");
        }
    }

    /// <summary>The embedded default as JSON, for <c>wsd config default</c>.</summary>
    public static string DefaultJson() =>
        JsonSerializer.Serialize(new WsdConfig(), ConfigJsonContext.Default.WsdConfig);

    static WsdConfig Finish(WsdConfig config, string source)
    {
        var problems = ConfigValidator.Validate(config);
        if (problems.Count > 0)
            throw new ConfigException($"{source}: " + string.Join("; ", problems));
        ResolvePaths(config);
        return config;
    }

    // Relative paths are relative to the directory wsd is started in, like the embedded default's
    // "./.wsd/..."; resolving once here means no later chdir can change their meaning.
    static void ResolvePaths(WsdConfig config)
    {
        config.Content.WorkingArea = Path.GetFullPath(config.Content.WorkingArea);
        config.Content.Storage.Local.Root = Path.GetFullPath(config.Content.Storage.Local.Root);
        config.Runtime.Process.PidDirectory = Path.GetFullPath(config.Runtime.Process.PidDirectory);
        var s3 = config.Content.Storage.S3;
        if (s3.AccessKeyFile.Length > 0)
            s3.AccessKeyFile = Path.GetFullPath(s3.AccessKeyFile);
        if (s3.SecretKeyFile.Length > 0)
            s3.SecretKeyFile = Path.GetFullPath(s3.SecretKeyFile);
        if (s3.CaFile.Length > 0)
            s3.CaFile = Path.GetFullPath(s3.CaFile);
        if (config.Service.Tls is { } tls)
        {
            tls.CertPath = Path.GetFullPath(tls.CertPath);
            tls.KeyPath = Path.GetFullPath(tls.KeyPath);
            if (tls.CaPath.Length > 0)
                tls.CaPath = Path.GetFullPath(tls.CaPath);
        }
    }

    static string Describe(JsonException e)
    {
        string where = e.LineNumber is long line ? $" (line {line + 1})" : "";
        string path = e.Path is { Length: > 1 } at ? $" at '{at.TrimStart('$').TrimStart('.')}'" : "";
        string detail = e.InnerException?.Message ?? FirstSentence(e.Message);
        return $"invalid value{path}{where}: {detail}";
    }

    static string FirstSentence(string message)
    {
        int end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..end];
    }
}
