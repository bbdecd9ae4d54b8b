using Grpc.Core;
using Wsd.Api.Iws;

namespace Wsd.Services;

/// <summary>
/// iws.InWorkspaceService, served only on workspace sockets (REF §7). The privileged operations
/// arrive with the in-workspace service issue; until then every method answers UNIMPLEMENTED.
/// </summary>
public sealed class InWorkspaceService : Api.Iws.InWorkspaceService.InWorkspaceServiceBase
{
    public override Task<PrepareForUserNSResponse> PrepareForUserNS(PrepareForUserNSRequest request, ServerCallContext context) =>
        throw Unimplemented.Method(nameof(PrepareForUserNS));

    public override Task<WriteIDMappingResponse> WriteIDMapping(WriteIDMappingRequest request, ServerCallContext context) =>
        throw Unimplemented.Method(nameof(WriteIDMapping));

    public override Task<EvacuateCGroupResponse> EvacuateCGroup(EvacuateCGroupRequest request, ServerCallContext context) =>
        throw Unimplemented.Method(nameof(EvacuateCGroup));

    public override Task<MountProcResponse> MountProc(MountProcRequest request, ServerCallContext context) =>
        throw Unimplemented.Method(nameof(MountProc));

    public override Task<UmountProcResponse> UmountProc(UmountProcRequest request, ServerCallContext context) =>
        throw Unimplemented.Method(nameof(UmountProc));

    public override Task<MountProcResponse> MountSysfs(MountProcRequest request, ServerCallContext context) =>
        throw Unimplemented.Method(nameof(MountSysfs));

    public override Task<UmountProcResponse> UmountSysfs(UmountProcRequest request, ServerCallContext context) =>
        throw Unimplemented.Method(nameof(UmountSysfs));

    public override Task<MountNfsResponse> MountNfs(MountNfsRequest request, ServerCallContext context) =>
        throw Unimplemented.Method(nameof(MountNfs));

    public override Task<UmountNfsResponse> UmountNfs(UmountNfsRequest request, ServerCallContext context) =>
        throw Unimplemented.Method(nameof(UmountNfs));

    public override Task<TeardownResponse> Teardown(TeardownRequest request, ServerCallContext context) =>
        throw Unimplemented.Method(nameof(Teardown));

    public override Task<WipingTeardownResponse> WipingTeardown(WipingTeardownRequest request, ServerCallContext context) =>
        throw Unimplemented.Method(nameof(WipingTeardown));

    public override Task<SetupPairVethsResponse> SetupPairVeths(SetupPairVethsRequest request, ServerCallContext context) =>
        throw Unimplemented.Method(nameof(SetupPairVeths));

    public override Task<WorkspaceInfoResponse> WorkspaceInfo(WorkspaceInfoRequest request, ServerCallContext context) =>
        throw Unimplemented.Method(nameof(WorkspaceInfo));
}
