using System.Globalization;

namespace Wsd.Linux;

/// <summary>
/// One contiguous range of an ID mapping: container IDs [Container, Container+Size) are host IDs
/// [Host, Host+Size). A line of a uid_map or gid_map, and a range of the archive engine's owner shift.
/// </summary>
public readonly record struct IdRange(uint Container, uint Host, uint Size)
{
    /// <summary>Parses "container:host:size", the notation of newuidmap and the <c>wsd archive</c> flags.</summary>
    public static IdRange Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 3 ||
            !uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out uint container) ||
            !uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out uint host) ||
            !uint.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out uint size) || size == 0)
            throw new FormatException($"'{text}' is not container:host:size with a size above 0");
        if ((ulong)container + size > uint.MaxValue + 1UL || (ulong)host + size > uint.MaxValue + 1UL)
            throw new FormatException($"'{text}' runs past the largest ID");
        return new IdRange(container, host, size);
    }
}
