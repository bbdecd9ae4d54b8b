using Grpc.Core;
using Grpc.Core.Interceptors;
using Wsd.Errors;

namespace Wsd.Services.Interceptors;

/// <summary>
/// The one place where domain errors become gRPC statuses (docs/architecture.md#errors). Anything
/// unexpected becomes INTERNAL with its message, as upstream's recovery interceptor did
/// (docs/compatibility.md#transport), and is logged.
/// </summary>
public sealed class ErrorMappingInterceptor(ILogger<ErrorMappingInterceptor> log) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Map(e, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Map(e, context);
        }
    }

    RpcException Map(Exception e, ServerCallContext context)
    {
        switch (e)
        {
            case WsdException domain:
                return new RpcException(new Status(ToStatusCode(domain.Code), domain.Message));
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                return new RpcException(new Status(
                    context.Deadline <= DateTime.UtcNow ? StatusCode.DeadlineExceeded : StatusCode.Cancelled,
                    "the call was cancelled or ran out of time"));
            default:
                log.LogError(e, "{method} failed unexpectedly", context.Method);
                return new RpcException(new Status(StatusCode.Internal, $"internal error: {e.Message}"));
        }
    }

    public static StatusCode ToStatusCode(ErrorCode code) => code switch
    {
        ErrorCode.Cancelled => StatusCode.Cancelled,
        ErrorCode.InvalidArgument => StatusCode.InvalidArgument,
        ErrorCode.DeadlineExceeded => StatusCode.DeadlineExceeded,
        ErrorCode.NotFound => StatusCode.NotFound,
        ErrorCode.AlreadyExists => StatusCode.AlreadyExists,
        ErrorCode.PermissionDenied => StatusCode.PermissionDenied,
        ErrorCode.ResourceExhausted => StatusCode.ResourceExhausted,
        ErrorCode.FailedPrecondition => StatusCode.FailedPrecondition,
        ErrorCode.Aborted => StatusCode.Aborted,
        ErrorCode.Unimplemented => StatusCode.Unimplemented,
        ErrorCode.Internal => StatusCode.Internal,
        ErrorCode.Unavailable => StatusCode.Unavailable,
        ErrorCode.DataLoss => StatusCode.DataLoss,
        _ => StatusCode.Unknown,
    };
}
