using Grpc.Core;
using Wsd.Api.WsDaemon;
using Wsd.Content;
using Wsd.Errors;
using Wsd.Workspaces;

namespace Wsd.Services;

/// <summary>wsdaemon.WorkspaceContentService on the content API listener (docs/compatibility.md#content-service): validate, call the domain (WorkspaceInit, WorkspaceBackups, WorkspaceDisposal), map.</summary>
public sealed class WorkspaceContentService(SessionStore sessions, WorkspaceInit init, WorkspaceBackups backups, WorkspaceDisposal disposal) : Api.WsDaemon.WorkspaceContentService.WorkspaceContentServiceBase
{
    public override async Task<InitWorkspaceResponse> InitWorkspace(InitWorkspaceRequest request, ServerCallContext context)
    {
        // Everything is checked before the session exists: a bad request never touches an existing
        // workspace (docs/compatibility.md#validation-errors-deleting-sessions).
        InstanceId.Validate(request.Id);
        if (request.Metadata is null)
            throw new WsdException(ErrorCode.InvalidArgument, "metadata is missing");
        if (request.FullWorkspaceBackup || request.PersistentVolumeClaim)
            throw new WsdException(ErrorCode.InvalidArgument, "full workspace backup and persistent volume claims are not supported by wsd");
        if (request.StorageQuotaBytes < 0)
            throw new WsdException(ErrorCode.InvalidArgument, "storage_quota_bytes must not be negative");
        var content = InitializerMapping.ToSpec(request.Initializer);
        string checkout = InitializerSpecs.CheckoutLocations(content).FirstOrDefault() ?? "";
        var spec = new SessionSpec(request.Id, request.Metadata.Owner, request.Metadata.MetaId, checkout,
            request.RemoteStorageDisabled, request.StorageQuotaBytes);

        await init.InitAsync(spec, content, context.CancellationToken);
        return new InitWorkspaceResponse();
    }

    public override async Task<WaitForInitResponse> WaitForInit(WaitForInitRequest request, ServerCallContext context)
    {
        InstanceId.Validate(request.Id);
        await init.WaitForInitAsync(request.Id, context.CancellationToken);
        return new WaitForInitResponse();
    }

    public override Task<IsWorkspaceExistsResponse> IsWorkspaceExists(IsWorkspaceExistsRequest request, ServerCallContext context)
    {
        InstanceId.Validate(request.Id);
        return Task.FromResult(new IsWorkspaceExistsResponse { Exists = sessions.Exists(request.Id) });
    }

    public override async Task<TakeSnapshotResponse> TakeSnapshot(TakeSnapshotRequest request, ServerCallContext context)
    {
        InstanceId.Validate(request.Id);
        return new TakeSnapshotResponse { Url = await backups.SnapshotAsync(request.Id, request.ReturnImmediately, context.CancellationToken) };
    }

    public override async Task<DisposeWorkspaceResponse> DisposeWorkspace(DisposeWorkspaceRequest request, ServerCallContext context)
    {
        InstanceId.Validate(request.Id);
        var status = await disposal.DisposeAsync(request.Id, request.Backup, request.BackupLogs, context.CancellationToken);
        return new DisposeWorkspaceResponse { GitStatus = GitStatusMapping.ToProto(status) };
    }

    public override async Task<BackupWorkspaceResponse> BackupWorkspace(BackupWorkspaceRequest request, ServerCallContext context)
    {
        InstanceId.Validate(request.Id);
        return new BackupWorkspaceResponse { Url = await backups.BackupAsync(request.Id, context.CancellationToken) };
    }
}
