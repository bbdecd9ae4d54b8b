using Grpc.Core;

namespace Wsd.Services;

/// <summary>
/// The answer for methods wsd does not serve (yet), in the words upstream's grpc-go gives
/// (REF §1.2), so clients that match on it keep working.
/// </summary>
static class Unimplemented
{
    public static RpcException Method(string name) =>
        new(new Status(StatusCode.Unimplemented, $"method {name} not implemented"));
}
