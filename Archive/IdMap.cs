using Wsd.Linux;

namespace Wsd.Archive;

/// <summary>
/// Shifts file owners between the host's view and the workspace's (docs/compatibility.md#archives). An ID
/// outside every range is not dropped (upstream silently omitted such files,
/// docs/compatibility.md#files-left-out-of-backups): it becomes <see cref="Fallback"/> in the workspace's
/// view, the overflow ID under which the workspace saw it anyway, and the caller counts it.
/// </summary>
public sealed class IdMap
{
    /// <summary>The kernel's overflow ID ("nobody"): how a user namespace shows an unmapped owner.</summary>
    public const uint OverflowId = 65534;

    readonly IdRange[] _ranges;

    public IdMap(IEnumerable<IdRange> ranges, uint fallback = OverflowId)
    {
        _ranges = [.. ranges];
        Fallback = fallback;
        for (int i = 0; i < _ranges.Length; i++)
        {
            for (int j = i + 1; j < _ranges.Length; j++)
            {
                if (Overlaps(_ranges[i].Container, _ranges[j].Container) || Overlaps(_ranges[i].Host, _ranges[j].Host))
                    throw new ArgumentException($"ID ranges {_ranges[i]} and {_ranges[j]} overlap");

                bool Overlaps(uint a, uint b) =>
                    a < b + (ulong)_ranges[j].Size && b < a + (ulong)_ranges[i].Size;
            }
        }
    }

    /// <summary>No shift at all: every ID is mapped to itself.</summary>
    public static IdMap Identity { get; } = new([new IdRange(0, 0, uint.MaxValue)]);

    /// <summary>
    /// Upstream's workspace mapping: container 0 is host 33333, container 1.. is host 100000..,
    /// so the in-workspace gitpod user 33333 is host 133332
    /// (docs/compatibility.md#workspace-user-and-id-mapping).
    /// </summary>
    public static IdMap Gitpod { get; } = new([new IdRange(0, 33333, 1), new IdRange(1, 100000, 65534)]);

    public uint Fallback { get; }

    public bool IsIdentity => _ranges is [{ Container: 0, Host: 0, Size: uint.MaxValue }];

    /// <summary>Host ID to workspace ID; false (and the fallback) when the host ID is outside every range.</summary>
    public bool TryToContainer(uint host, out uint container)
    {
        foreach (var range in _ranges)
        {
            if (host >= range.Host && host - range.Host < range.Size)
            {
                container = range.Container + (host - range.Host);
                return true;
            }
        }
        container = Fallback;
        return false;
    }

    /// <summary>Workspace ID to host ID; false when outside every range, and then the fallback's host ID (or the fallback itself).</summary>
    public bool TryToHost(uint container, out uint host)
    {
        if (TryFind(container, out host))
            return true;
        if (!TryFind(Fallback, out host))
            host = Fallback;
        return false;
    }

    bool TryFind(uint container, out uint host)
    {
        foreach (var range in _ranges)
        {
            if (container >= range.Container && container - range.Container < range.Size)
            {
                host = range.Host + (container - range.Container);
                return true;
            }
        }
        host = 0;
        return false;
    }
}
