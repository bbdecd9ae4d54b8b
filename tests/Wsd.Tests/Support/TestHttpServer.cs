using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Wsd.Tests.Support;

/// <summary>
/// A real HTTP server on loopback for the daemon to talk to: git's smart HTTP protocol through the
/// real `git http-backend` behind basic auth, one-time secrets, and files to download.
/// </summary>
public sealed class TestHttpServer : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly Dictionary<string, Func<HttpContext, Task>> _routes = new(StringComparer.Ordinal);

    public string BaseUrl { get; }
    public int OtsFetches;

    TestHttpServer(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public static async Task<TestHttpServer> StartAsync()
    {
        int port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new TestHttpServer(app, $"http://127.0.0.1:{port}");
        app.Run(context =>
        {
            foreach (var (prefix, handler) in server._routes)
            {
                if (context.Request.Path.Value!.StartsWith(prefix, StringComparison.Ordinal))
                    return handler(context);
            }
            context.Response.StatusCode = 404;
            return Task.CompletedTask;
        });
        await app.StartAsync();
        return server;
    }

    public void Map(string prefix, Func<HttpContext, Task> handler) => _routes[prefix] = handler;

    public void ServeBytes(string path, byte[] content) => Map(path, context => context.Response.Body.WriteAsync(content).AsTask());

    /// <summary>A one-time secret: the first GET gets "user:password", later ones 404, as an OTS service does.</summary>
    public string OneTimeSecret(string user, string password)
    {
        string path = "/ots/" + Guid.NewGuid().ToString("N");
        Map(path, context =>
        {
            if (Interlocked.Increment(ref OtsFetches) > 1)
            {
                context.Response.StatusCode = 404;
                return Task.CompletedTask;
            }
            return context.Response.WriteAsync($"{user}:{password}");
        });
        return BaseUrl + path;
    }

    /// <summary>Serves the repositories under <paramref name="root"/> at /git/ through git http-backend, requiring these credentials.</summary>
    public void ServeGit(string root, string user, string password)
    {
        string expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));
        Map("/git/", async context =>
        {
            if (context.Request.Headers.Authorization != expected)
            {
                context.Response.StatusCode = 401;
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"test\"";
                return;
            }
            await RunBackend(context, root, user);
        });
    }

    static async Task RunBackend(HttpContext context, string root, string user)
    {
        var start = new ProcessStartInfo("git", ["-c", "safe.directory=*", "http-backend"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.Environment["GIT_PROJECT_ROOT"] = root;
        start.Environment["GIT_HTTP_EXPORT_ALL"] = "1";
        start.Environment["PATH_INFO"] = context.Request.Path.Value!["/git".Length..];
        start.Environment["REQUEST_METHOD"] = context.Request.Method;
        start.Environment["QUERY_STRING"] = context.Request.QueryString.Value?.TrimStart('?') ?? "";
        start.Environment["CONTENT_TYPE"] = context.Request.ContentType ?? "";
        start.Environment["REMOTE_USER"] = user;
        start.Environment["REMOTE_ADDR"] = "127.0.0.1";
        start.Environment["GIT_CONFIG_PARAMETERS"] = "'safe.directory'='*'";
        if (context.Request.Headers.ContentEncoding == "gzip")
            start.Environment["HTTP_CONTENT_ENCODING"] = "gzip";
        using var process = Process.Start(start)!;
        await context.Request.Body.CopyToAsync(process.StandardInput.BaseStream);
        process.StandardInput.Close();
        var output = process.StandardOutput.BaseStream;
        // CGI: headers, a blank line, then the body.
        var header = new StringBuilder();
        while (true)
        {
            int b = output.ReadByte();
            if (b < 0)
                break;
            header.Append((char)b);
            if (header.Length >= 4 && header.ToString(header.Length - 4, 4) == "\r\n\r\n" || header.Length >= 2 && header.ToString(header.Length - 2, 2) == "\n\n" && !header.ToString().Contains('\r'))
                break;
        }
        foreach (var line in header.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int colon = line.IndexOf(':');
            if (colon < 0)
                continue;
            string name = line[..colon], value = line[(colon + 1)..].Trim();
            if (name.Equals("Status", StringComparison.OrdinalIgnoreCase))
                context.Response.StatusCode = int.Parse(value.Split(' ')[0]);
            else
                context.Response.Headers[name] = value;
        }
        await output.CopyToAsync(context.Response.Body);
        await process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
