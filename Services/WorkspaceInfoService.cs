using Grpc.Core;
using Wsd.Api.Iws;
using Wsd.Workspaces.InWorkspace;

namespace Wsd.Services;

/// <summary>
/// iws.WorkspaceInfoService on workspace sockets. Upstream leaves it to workspacekit
/// (docs/compatibility.md#services-and-listeners); wsd answers it with the same figures as
/// InWorkspaceService.WorkspaceInfo, so one socket serves both names.
/// </summary>
public sealed class WorkspaceInfoService(InWorkspaceOperations operations) : Api.Iws.WorkspaceInfoService.WorkspaceInfoServiceBase
{
    public override async Task<WorkspaceInfoResponse> WorkspaceInfo(WorkspaceInfoRequest request, ServerCallContext context) =>
        InWorkspaceService.InfoResponse(await operations.WorkspaceInfoAsync(InWorkspaceService.WorkspaceOf(context), context.CancellationToken));
}
