using Grpc.Core;
using Wsd.Api.WsDaemon;
using Wsd.Workspaces;

namespace Wsd.Services;

/// <summary>wsdaemon.WorkspaceContentService on the content API listener (REF §3).</summary>
public sealed class WorkspaceContentService(SessionStore sessions) : Api.WsDaemon.WorkspaceContentService.WorkspaceContentServiceBase
{
    public override Task<IsWorkspaceExistsResponse> IsWorkspaceExists(IsWorkspaceExistsRequest request, ServerCallContext context)
    {
        WorkspaceId.Validate(request.Id);
        return Task.FromResult(new IsWorkspaceExistsResponse { Exists = sessions.Exists(request.Id) });
    }

    public override async Task<WaitForInitResponse> WaitForInit(WaitForInitRequest request, ServerCallContext context)
    {
        WorkspaceId.Validate(request.Id);
        var session = sessions.Get(request.Id, nameof(WaitForInit));
        await sessions.WaitForInitAsync(session, context.CancellationToken);
        return new WaitForInitResponse();
    }

    public override Task<InitWorkspaceResponse> InitWorkspace(InitWorkspaceRequest request, ServerCallContext context) =>
        throw Unimplemented.Method(nameof(InitWorkspace));

    public override Task<TakeSnapshotResponse> TakeSnapshot(TakeSnapshotRequest request, ServerCallContext context) =>
        throw Unimplemented.Method(nameof(TakeSnapshot));

    public override Task<DisposeWorkspaceResponse> DisposeWorkspace(DisposeWorkspaceRequest request, ServerCallContext context) =>
        throw Unimplemented.Method(nameof(DisposeWorkspace));

    public override Task<BackupWorkspaceResponse> BackupWorkspace(BackupWorkspaceRequest request, ServerCallContext context) =>
        throw Unimplemented.Method(nameof(BackupWorkspace));
}
