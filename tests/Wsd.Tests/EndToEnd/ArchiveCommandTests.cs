using System.Diagnostics;
using System.Text.Json;
using Wsd.Tests.Support;

namespace Wsd.Tests.EndToEnd;

/// <summary>`wsd archive create | wsd archive extract` with the AOT binary, as an operator runs it.</summary>
public class ArchiveCommandTests
{
    internal static async Task<(int ExitCode, string Stderr)> Shell(string workingDirectory, string command)
    {
        var start = new ProcessStartInfo("bash", ["-o", "pipefail", "-c", command])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.Environment["WSD"] = RepositoryPaths.DaemonBinary;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stderr);
    }

    [Theory]
    [InlineData("")]
    [InlineData("--zstd")]
    [InlineData("--zstd=1")]
    public async Task CreatePipedIntoExtractReproducesTheTree(string compression)
    {
        using var dir = new TempDirectory();
        using var tree = SampleTree.Create(dir.Combine("src"));

        var (exitCode, stderr) = await Shell(dir.Path,
            $"$WSD archive create src {compression} 2>create.json | tee archive | $WSD archive extract dst --allow-devices 2>extract.json");

        Assert.True(exitCode == 0, stderr);
        Assert.Equal(
            string.Join('\n', TreeSnapshot.Of(dir.Combine("src")).Split('\n').Where(l => !l.Contains(" socket "))),
            TreeSnapshot.Of(dir.Combine("dst")));
        using var created = JsonDocument.Parse(File.ReadAllText(dir.Combine("create.json")));
        using var extracted = JsonDocument.Parse(File.ReadAllText(dir.Combine("extract.json")));
        string sha = created.RootElement.GetProperty("sha256").GetString()!;
        Assert.Equal(sha, extracted.RootElement.GetProperty("sha256").GetString());
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(dir.Combine("archive")))), sha);
        Assert.Equal(1, created.RootElement.GetProperty("socketsSkipped").GetInt32());
    }

    [Fact]
    public async Task AWrongExpectedDigestFailsTheExtraction()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("src"));
        File.WriteAllText(dir.Combine("src/f"), "content");

        var (exitCode, stderr) = await Shell(dir.Path,
            $"$WSD archive create src 2>/dev/null | $WSD archive extract dst --sha256 {new string('0', 64)}");

        Assert.Equal(1, exitCode);
        Assert.Contains("cannot be trusted", stderr);
    }

    [Fact]
    public async Task AHostileArchiveIsAClearErrorFromTheCommand()
    {
        using var dir = new TempDirectory();
        await File.WriteAllBytesAsync(dir.Combine("evil.tar"), new RawTar().File("../escaped", "x").Build());

        var (exitCode, stderr) = await Shell(dir.Path, "$WSD archive extract dst < evil.tar");

        Assert.Equal(1, exitCode);
        Assert.Contains("leaves the destination", stderr);
        Assert.False(File.Exists(dir.Combine("escaped")));
    }

    [Fact]
    public async Task OwnersAreShiftedByTheMapFlags()
    {
        Tools.RequireRoot("chown");
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("src"));
        File.WriteAllText(dir.Combine("src/f"), "content");
        Tools.Ok("chown", dir.Path, "133332:133332", "src/f");

        var (exitCode, stderr) = await Shell(dir.Path,
            "$WSD archive create src --uid-map 0:33333:1 --uid-map 1:100000:65534 --gid-map 0:33333:1 --gid-map 1:100000:65534 2>/dev/null > a.tar" +
            " && tar --numeric-owner -tvf a.tar > listing");

        Assert.True(exitCode == 0, stderr);
        Assert.Contains("33333/33333", File.ReadAllText(dir.Combine("listing")));
    }

    [Fact]
    public async Task BadFlagsAreAUsageError()
    {
        using var dir = new TempDirectory();

        var (exitCode, stderr) = await Shell(dir.Path, "$WSD archive create . --uid-map nonsense > /dev/null");

        Assert.Equal(2, exitCode);
        Assert.Contains("container:host:size", stderr);
    }
}
