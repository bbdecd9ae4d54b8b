namespace Wsd.Workspaces;

/// <summary>What InitWorkspace asks for, validated, before the session exists.</summary>
public sealed record SessionSpec(
    string InstanceId,
    string Owner,
    string MetaId,
    string CheckoutLocation,
    bool RemoteStorageDisabled,
    long StorageQuotaBytes);
