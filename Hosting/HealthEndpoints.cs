using System.Text;
using Wsd.Observability;
using Wsd.Observability.Metrics;
using Wsd.Workspaces;

namespace Wsd.Hosting;

/// <summary>/live, /ready, /metrics and /progress, answered only on the health listener.</summary>
static class HealthEndpoints
{
    public static void Map(WebApplication app, int healthPort)
    {
        app.Map("/live", OnHealthListener(healthPort, context => Text(context, 200, "ok\n")));

        app.Map("/ready", OnHealthListener(healthPort, context =>
        {
            var checks = context.RequestServices.GetRequiredService<Readiness>().Check();
            var body = new StringBuilder();
            foreach (var (name, problem) in checks)
                body.Append(name).Append(": ").Append(problem ?? "ok").Append('\n');
            return Text(context, checks.All(c => c.Problem is null) ? 200 : 503, body.ToString());
        }));

        // Content work running now, per workspace (what `wsd client` shows while it waits).
        app.Map("/progress", OnHealthListener(healthPort, async context =>
        {
            context.Response.ContentType = "application/json";
            await using var json = new System.Text.Json.Utf8JsonWriter(context.Response.Body);
            context.RequestServices.GetRequiredService<IProgressReport>().WriteJson(json);
        }));

        app.Map("/metrics", OnHealthListener(healthPort, context =>
        {
            string text = context.RequestServices.GetRequiredService<MetricRegistry>().Render();
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            return context.Response.WriteAsync(text);
        }));
    }

    // The same routes exist on every listener of the one server; elsewhere they are not found.
    static RequestDelegate OnHealthListener(int healthPort, RequestDelegate handler) => context =>
        context.Connection.LocalPort == healthPort && context.Features.Get<WorkspaceConnection>() is null
            ? handler(context)
            : Text(context, 404, "not found\n");

    static Task Text(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(body);
    }
}
