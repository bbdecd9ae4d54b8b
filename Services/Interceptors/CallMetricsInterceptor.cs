using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Wsd.Observability;

namespace Wsd.Services.Interceptors;

/// <summary>
/// Counts and times every call by method and status code under the go-grpc-prometheus names
/// upstream exported (docs/compatibility.md#metric-names), and logs failed calls, as upstream did, except
/// health checks.
/// </summary>
public sealed class CallMetricsInterceptor(GrpcMetrics metrics, ILogger<CallMetricsInterceptor> log) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var call = metrics.Start("unary", context.Method);
        long started = Stopwatch.GetTimestamp();
        try
        {
            var response = await continuation(request, context);
            call.Finish(StatusCode.OK, Stopwatch.GetElapsedTime(started));
            return response;
        }
        catch (RpcException e)
        {
            call.Finish(e.StatusCode, Stopwatch.GetElapsedTime(started));
            LogFailure(context, e);
            throw;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var call = metrics.Start("server_stream", context.Method);
        long started = Stopwatch.GetTimestamp();
        try
        {
            await continuation(request, responseStream, context);
            call.Finish(StatusCode.OK, Stopwatch.GetElapsedTime(started));
        }
        catch (RpcException e)
        {
            call.Finish(e.StatusCode, Stopwatch.GetElapsedTime(started));
            LogFailure(context, e);
            throw;
        }
    }

    void LogFailure(ServerCallContext context, RpcException e)
    {
        if (context.Method.StartsWith("/grpc.health.v1.", StringComparison.Ordinal))
            return;
        log.LogWarning("{method} failed: {code} {detail}", context.Method, e.StatusCode, e.Status.Detail);
    }
}
