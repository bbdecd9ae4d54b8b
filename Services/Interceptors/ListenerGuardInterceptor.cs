using Grpc.Core;
using Grpc.Core.Interceptors;
using Wsd.Workspaces;

namespace Wsd.Services.Interceptors;

/// <summary>
/// Keeps each API on its own listener: the in-workspace services only on workspace sockets (the
/// socket is the caller's identity, docs/compatibility.md#workspace-sockets), everything else only on the
/// content API. A workspace must not reach the content API through its socket, nor a TCP client the
/// in-workspace one.
/// </summary>
public sealed class ListenerGuardInterceptor : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, responseStream, context);
    }

    static void Check(ServerCallContext context)
    {
        bool inWorkspaceApi = context.Method.StartsWith("/iws.", StringComparison.Ordinal);
        bool onWorkspaceSocket = context.GetHttpContext().Features.Get<WorkspaceConnection>() is not null;
        if (inWorkspaceApi && !onWorkspaceSocket)
            throw new RpcException(new Status(StatusCode.Unimplemented,
                $"{context.Method} is served only on a workspace's daemon.sock, not on the content API"));
        if (!inWorkspaceApi && onWorkspaceSocket)
            throw new RpcException(new Status(StatusCode.Unimplemented,
                $"{context.Method} is not served on workspace sockets; use the content API"));
    }
}
