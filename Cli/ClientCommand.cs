using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Wsd.Api.ContentService;
using Wsd.Api.WsDaemon;

namespace Wsd.Cli;

/// <summary>
/// <c>wsd client ...</c>: drives a running daemon's content API for operators, printing each result
/// as one JSON object. Failures print the gRPC status and exit 1.
/// </summary>
static class ClientCommand
{
    public const string Usage = """
          wsd client [--address HOST:PORT] [--ca FILE --cert FILE --key FILE] [--health HOST:PORT] COMMAND
            init ID [--owner O] [--workspace W] [--git URL [--branch B | --commit SHA] [--checkout DIR]] [--snapshot URL]
                    [--no-remote-storage] [--quota BYTES]
            wait ID | exists ID | snapshot ID [--return-immediately] | backup ID | dispose ID [--backup]
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        var flags = new HashSet<string>(StringComparer.Ordinal);
        var positional = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg is "--return-immediately" or "--backup" or "--no-remote-storage")
                flags.Add(arg);
            else if (arg.StartsWith("--", StringComparison.Ordinal))
                options[arg] = i + 1 < args.Length ? args[++i] : throw new UsageException($"{arg} needs a value");
            else
                positional.Add(arg);
        }
        if (positional.Count != 2)
            throw new UsageException("client needs a command and a workspace ID");
        string command = positional[0], id = positional[1];

        using var channel = Channel(options);
        var client = new WorkspaceContentService.WorkspaceContentServiceClient(channel);
        // On a terminal, long calls show what the daemon is doing (its /progress, health listener).
        var progress = command is "init" or "wait" or "snapshot" or "backup" or "dispose"
            ? DaemonProgress.Show(options.GetValueOrDefault("--health", "127.0.0.1:9500"), command, id)
            : null;
        // The line goes before anything is printed, so the answer starts on a clean line.
        async Task<T> Done<T>(AsyncUnaryCall<T> call)
        {
            try
            {
                return await call;
            }
            finally
            {
                progress?.Dispose();
                progress = null;
            }
        }
        try
        {
            switch (command)
            {
                case "init":
                    await Done(client.InitWorkspaceAsync(InitRequest(id, options, flags)));
                    Print(json => json.WriteString("initialized", id));
                    break;
                case "wait":
                    await Done(client.WaitForInitAsync(new WaitForInitRequest { Id = id }));
                    Print(json => json.WriteString("ready", id));
                    break;
                case "exists":
                    var exists = await Done(client.IsWorkspaceExistsAsync(new IsWorkspaceExistsRequest { Id = id }));
                    Print(json => json.WriteBoolean("exists", exists.Exists));
                    break;
                case "snapshot":
                    var snapshot = await Done(client.TakeSnapshotAsync(new TakeSnapshotRequest { Id = id, ReturnImmediately = flags.Contains("--return-immediately") }));
                    Print(json => json.WriteString("url", snapshot.Url));
                    break;
                case "backup":
                    var backup = await Done(client.BackupWorkspaceAsync(new BackupWorkspaceRequest { Id = id }));
                    Print(json => json.WriteString("url", backup.Url));
                    break;
                case "dispose":
                    var disposed = await Done(client.DisposeWorkspaceAsync(new DisposeWorkspaceRequest { Id = id, Backup = flags.Contains("--backup") }));
                    Print(json =>
                    {
                        json.WriteString("disposed", id);
                        if (disposed.GitStatus is { } git)
                        {
                            json.WriteStartObject("gitStatus");
                            json.WriteString("branch", git.Branch);
                            json.WriteString("latestCommit", git.LatestCommit);
                            json.WriteNumber("uncommittedFiles", git.TotalUncommitedFiles);
                            json.WriteNumber("untrackedFiles", git.TotalUntrackedFiles);
                            json.WriteNumber("unpushedCommits", git.TotalUnpushedCommits);
                            json.WriteEndObject();
                        }
                    });
                    break;
                default:
                    throw new UsageException($"unknown client command '{command}'");
            }
            return 0;
        }
        catch (RpcException e)
        {
            return JsonLine.PrintError(e);
        }
    }

    static InitWorkspaceRequest InitRequest(string id, Dictionary<string, string> options, HashSet<string> flags)
    {
        var request = new InitWorkspaceRequest
        {
            Id = id,
            Metadata = new WorkspaceMetadata
            {
                Owner = options.GetValueOrDefault("--owner", "operator"),
                MetaId = options.GetValueOrDefault("--workspace", id),
            },
            RemoteStorageDisabled = flags.Contains("--no-remote-storage"),
            Initializer = new WorkspaceInitializer { Empty = new EmptyInitializer() },
        };
        if (options.TryGetValue("--quota", out var quota))
            request.StorageQuotaBytes = long.TryParse(quota, out long bytes) && bytes >= 0 ? bytes : throw new UsageException("--quota takes a number of bytes");
        if (options.TryGetValue("--snapshot", out var snapshot))
        {
            request.Initializer = new WorkspaceInitializer { Snapshot = new SnapshotInitializer { Snapshot = snapshot } };
        }
        else if (options.TryGetValue("--git", out var url))
        {
            var git = new GitInitializer { RemoteUri = url, CheckoutLocation = options.GetValueOrDefault("--checkout", ""), Config = new GitConfig() };
            if (options.TryGetValue("--branch", out var branch))
                (git.TargetMode, git.CloneTaget) = (CloneTargetMode.RemoteBranch, branch);
            else if (options.TryGetValue("--commit", out var commit))
                (git.TargetMode, git.CloneTaget) = (CloneTargetMode.RemoteCommit, commit);
            request.Initializer = new WorkspaceInitializer { Git = git };
        }
        return request;
    }

    static GrpcChannel Channel(Dictionary<string, string> options)
    {
        string address = options.GetValueOrDefault("--address", "127.0.0.1:8080");
        if (!options.TryGetValue("--ca", out var ca))
            return GrpcChannel.ForAddress($"http://{address}");

        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(ca);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                TargetHost = "wsdaemon", // the name upstream clients verify (docs/compatibility.md#tls)
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is X509Certificate2 c && Hosting.CertificateTrust.IsIssuedBy(c, authorities),
            },
        };
        if (options.TryGetValue("--cert", out var cert) && options.TryGetValue("--key", out var key))
        {
            using var pem = X509Certificate2.CreateFromPemFile(cert, key);
            handler.SslOptions.ClientCertificates = [X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null)];
        }
        return GrpcChannel.ForAddress($"https://{address}", new GrpcChannelOptions { HttpHandler = handler });
    }

    static void Print(Action<Utf8JsonWriter> write) => Console.WriteLine(JsonLine.Of(write));
}
