using Grpc.Core;
using Wsd.Api.Iws;

namespace Wsd.Services;

/// <summary>
/// iws.WorkspaceInfoService on workspace sockets. Upstream leaves it to workspacekit (REF §1.2);
/// wsd answers it with the same resource figures as InWorkspaceService.WorkspaceInfo once those land.
/// </summary>
public sealed class WorkspaceInfoService : Api.Iws.WorkspaceInfoService.WorkspaceInfoServiceBase
{
    public override Task<WorkspaceInfoResponse> WorkspaceInfo(WorkspaceInfoRequest request, ServerCallContext context) =>
        throw Unimplemented.Method(nameof(WorkspaceInfo));
}
