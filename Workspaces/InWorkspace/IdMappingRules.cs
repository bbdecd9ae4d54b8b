using Wsd.Config;
using Wsd.Errors;
using Wsd.Linux;

namespace Wsd.Workspaces.InWorkspace;

/// <summary>
/// Which host IDs a workspace may map its IDs to (docs/compatibility.md#writeidmapping, with
/// docs/compatibility.md#id-maps-beyond-their-range fixed): container root only into the root range,
/// every other ID only into one of the user ranges, and each whole mapping, its upper end included,
/// inside the range.
/// </summary>
public sealed class IdMappingRules(IdRangeConfig root, IReadOnlyList<IdRangeConfig> users)
{
    public void Check(IReadOnlyList<IdRange> entries, bool gid)
    {
        string kind = gid ? "GID" : "UID";
        if (entries.Count == 0)
            throw new WsdException(ErrorCode.InvalidArgument, "no mapping given");
        foreach (var entry in entries)
        {
            if (entry.Size == 0)
                throw new WsdException(ErrorCode.InvalidArgument, $"mapping for {kind} {entry.Container} has size 0");
            if ((ulong)entry.Container + entry.Size > uint.MaxValue)
                throw new WsdException(ErrorCode.InvalidArgument, $"mapping for {kind} {entry.Container} ends past the largest ID");
            bool allowed = entry.Container == 0
                ? Contains(root, entry)
                : users.Any(range => Contains(range, entry));
            if (!allowed)
                throw new WsdException(ErrorCode.InvalidArgument,
                    $"mapping for {kind} {entry.Container} is out of range: host IDs {entry.Host}-{(ulong)entry.Host + entry.Size - 1} " +
                    $"are not within {Describe(entry.Container == 0 ? [root] : users)}");
        }
    }

    static bool Contains(IdRangeConfig range, IdRange entry) =>
        entry.Host >= range.Start && (ulong)entry.Host + entry.Size <= (ulong)range.Start + range.Size;

    static string Describe(IEnumerable<IdRangeConfig> ranges) =>
        string.Join(" or ", ranges.Select(r => $"{r.Start}-{(ulong)r.Start + r.Size - 1}"));
}
