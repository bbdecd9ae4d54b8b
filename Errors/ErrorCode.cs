namespace Wsd.Errors;

/// <summary>
/// What kind of failure a domain error is. The names follow the gRPC status codes they map to, so
/// the domain can say how a caller should react without referencing gRPC types
/// (docs/architecture.md#errors: one place, Services/, turns these into statuses).
/// </summary>
public enum ErrorCode
{
    Cancelled,
    Unknown,
    InvalidArgument,
    DeadlineExceeded,
    NotFound,
    AlreadyExists,
    PermissionDenied,
    ResourceExhausted,
    FailedPrecondition,
    Aborted,
    Unimplemented,
    Internal,
    Unavailable,
    DataLoss,
}
