using System.Runtime.CompilerServices;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Wsd.Workspaces;

namespace Wsd.Services.Interceptors;

/// <summary>
/// Applies <see cref="WorkspaceCallLimits"/> to calls on workspace sockets, before the handler runs.
/// The limits hang off the socket's connection feature, which exists once per served socket, so a
/// socket served anew (after a daemon restart) starts with fresh limits, as upstream's do.
/// </summary>
public sealed class WorkspaceLimitsInterceptor(TimeProvider clock) : Interceptor
{
    readonly ConditionalWeakTable<WorkspaceConnection, WorkspaceCallLimits> _limits = new();

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (context.GetHttpContext().Features.Get<WorkspaceConnection>() is { } workspace)
            _limits.GetValue(workspace, _ => new WorkspaceCallLimits(clock)).Admit(context.Method);
        return continuation(request, context);
    }
}
