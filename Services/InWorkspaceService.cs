using Grpc.Core;
using Wsd.Api.Iws;
using Wsd.Workspaces;
using Wsd.Workspaces.InWorkspace;

namespace Wsd.Services;

/// <summary>
/// iws.InWorkspaceService, served only on workspace sockets (docs/compatibility.md#in-workspace-service):
/// the socket a call comes in on names the workspace, nothing in the request does. The work is in
/// <see cref="InWorkspaceOperations"/>.
/// </summary>
public sealed class InWorkspaceService(InWorkspaceOperations operations, WorkspaceNetwork network) : Api.Iws.InWorkspaceService.InWorkspaceServiceBase
{
    /// <summary>The workspace whose socket the call came in on (the listener guard admits no other calls).</summary>
    internal static string WorkspaceOf(ServerCallContext context) =>
        context.GetHttpContext().Features.Get<WorkspaceConnection>()?.InstanceId
            ?? throw new RpcException(new Status(StatusCode.Internal, "an in-workspace call arrived without its workspace socket"));

    internal static WorkspaceInfoResponse InfoResponse(ResourceUsage.Figures figures) => new()
    {
        Resources = new Resources
        {
            Cpu = new Cpu { Used = figures.CpuUsedMillicores, Limit = figures.CpuLimitMillicores },
            Memory = new Memory { Used = figures.MemoryUsedBytes, Limit = figures.MemoryLimitBytes },
        },
    };

    public override async Task<PrepareForUserNSResponse> PrepareForUserNS(PrepareForUserNSRequest request, ServerCallContext context)
    {
        var shift = await operations.PrepareForUserNsAsync(WorkspaceOf(context), context.CancellationToken);
        return new PrepareForUserNSResponse
        {
            FsShift = shift == FsShift.Shiftfs ? FSShiftMethod.Shiftfs : FSShiftMethod.Idmapped,
        };
    }

    public override async Task<WriteIDMappingResponse> WriteIDMapping(WriteIDMappingRequest request, ServerCallContext context)
    {
        var mapping = request.Mapping.Select(m => (m.ContainerId, m.HostId, m.Size));
        await operations.WriteIdMappingAsync(WorkspaceOf(context), request.Pid, request.Gid, mapping, context.CancellationToken);
        return new WriteIDMappingResponse();
    }

    public override async Task<EvacuateCGroupResponse> EvacuateCGroup(EvacuateCGroupRequest request, ServerCallContext context)
    {
        await operations.EvacuateCgroupAsync(WorkspaceOf(context), context.CancellationToken);
        return new EvacuateCGroupResponse();
    }

    public override async Task<MountProcResponse> MountProc(MountProcRequest request, ServerCallContext context)
    {
        await operations.MountAsync(WorkspaceOf(context), "proc", unmount: false, request.Target, request.Pid, context.CancellationToken);
        return new MountProcResponse();
    }

    public override async Task<UmountProcResponse> UmountProc(UmountProcRequest request, ServerCallContext context)
    {
        await operations.MountAsync(WorkspaceOf(context), "proc", unmount: true, request.Target, request.Pid, context.CancellationToken);
        return new UmountProcResponse();
    }

    public override async Task<MountProcResponse> MountSysfs(MountProcRequest request, ServerCallContext context)
    {
        await operations.MountAsync(WorkspaceOf(context), "sysfs", unmount: false, request.Target, request.Pid, context.CancellationToken);
        return new MountProcResponse();
    }

    public override async Task<UmountProcResponse> UmountSysfs(UmountProcRequest request, ServerCallContext context)
    {
        await operations.MountAsync(WorkspaceOf(context), "sysfs", unmount: true, request.Target, request.Pid, context.CancellationToken);
        return new UmountProcResponse();
    }

    public override async Task<MountNfsResponse> MountNfs(MountNfsRequest request, ServerCallContext context)
    {
        await operations.MountNfsAsync(WorkspaceOf(context), request.Source, request.Args, request.Target, request.Pid, context.CancellationToken);
        return new MountNfsResponse();
    }

    public override async Task<UmountNfsResponse> UmountNfs(UmountNfsRequest request, ServerCallContext context)
    {
        await operations.MountAsync(WorkspaceOf(context), "nfs4", unmount: true, request.Target, request.Pid, context.CancellationToken);
        return new UmountNfsResponse();
    }

    public override Task<TeardownResponse> Teardown(TeardownRequest request, ServerCallContext context) =>
        Task.FromResult(new TeardownResponse { Success = operations.Teardown(WorkspaceOf(context)) });

    public override Task<WipingTeardownResponse> WipingTeardown(WipingTeardownRequest request, ServerCallContext context) =>
        Task.FromResult(new WipingTeardownResponse { Success = !request.DoWipe || operations.Teardown(WorkspaceOf(context)) });

    public override async Task<SetupPairVethsResponse> SetupPairVeths(SetupPairVethsRequest request, ServerCallContext context)
    {
        await network.SetupPairVethsAsync(WorkspaceOf(context), request.Pid, context.CancellationToken);
        return new SetupPairVethsResponse();
    }

    public override async Task<WorkspaceInfoResponse> WorkspaceInfo(WorkspaceInfoRequest request, ServerCallContext context) =>
        InfoResponse(await operations.WorkspaceInfoAsync(WorkspaceOf(context), context.CancellationToken));
}
