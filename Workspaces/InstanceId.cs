using Wsd.Errors;

namespace Wsd.Workspaces;

/// <summary>
/// Checks the instance IDs callers send. The ID becomes a file name in the working area, so
/// anything that could leave it ("../x", "a/b") or collide with another workspace's files
/// ("x-daemon", "x.workspace.json") is refused before it reaches the file system.
/// </summary>
public static class InstanceId
{
    const int MaxLength = 253; // a Kubernetes object name, which upstream instance IDs are

    public static void Validate(string id)
    {
        if (id.Length == 0)
            throw new WsdException(ErrorCode.InvalidArgument, "ID is required"); // docs/compatibility.md#status-codes-and-messages
        if (id.Length > MaxLength)
            throw Invalid(id, $"at most {MaxLength} characters are allowed");
        foreach (char c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
                throw Invalid(id, "only letters, digits, '-', '_' and '.' are allowed");
        }
        if (id[0] == '.')
            throw Invalid(id, "it must not start with '.'");
        if (id.EndsWith(WorkingArea.ServiceDirSuffix, StringComparison.Ordinal) ||
            id.EndsWith(WorkingArea.SessionFileSuffix, StringComparison.Ordinal) ||
            id.EndsWith(WorkingArea.SessionFileSuffix + WorkingArea.CorruptSuffix, StringComparison.Ordinal) ||
            id.EndsWith(WorkingArea.FilesCacheSuffix, StringComparison.Ordinal))
            throw Invalid(id, $"it must not end with '{WorkingArea.ServiceDirSuffix}', '{WorkingArea.SessionFileSuffix}', '{WorkingArea.CorruptSuffix}' or '{WorkingArea.FilesCacheSuffix}'");
    }

    public static bool IsValid(string id)
    {
        try
        {
            Validate(id);
            return true;
        }
        catch (WsdException)
        {
            return false;
        }
    }

    static WsdException Invalid(string id, string why)
    {
        string shown = id.Length > 80 ? id[..80] + "..." : id;
        return new WsdException(ErrorCode.InvalidArgument, $"invalid ID \"{shown}\": {why}");
    }
}
