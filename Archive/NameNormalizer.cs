namespace Wsd.Archive;

/// <summary>
/// Turns a member name into a path relative to the destination, or refuses it: absolute names and
/// ".." components are how hostile archives escape, so they end the extraction
/// (docs/decisions.md#archives). "./" prefixes, "." components and repeated slashes are dropped, as tar
/// does.
/// </summary>
static class NameNormalizer
{
    /// <summary>
    /// Writes the normalized name to <paramref name="output"/> and returns its length; 0 means the
    /// destination root itself. <paramref name="lastSlash"/> is where the parent part ends (-1 for none).
    /// </summary>
    public static int Normalize(ReadOnlySpan<byte> name, Span<byte> output, out int lastSlash, string what = "member")
    {
        lastSlash = -1;
        if (name.IndexOf((byte)0) >= 0)
            throw new ArchiveException($"{what} name contains a NUL byte: {Display(name)}");
        if (!name.IsEmpty && name[0] == '/')
            throw new ArchiveException($"{what} name is absolute: {Display(name)}");

        int length = 0;
        var rest = name;
        while (!rest.IsEmpty)
        {
            int slash = rest.IndexOf((byte)'/');
            var component = slash < 0 ? rest : rest[..slash];
            rest = slash < 0 ? default : rest[(slash + 1)..];
            if (component.IsEmpty || component is [(byte)'.'])
                continue;
            if (component is [(byte)'.', (byte)'.'])
                throw new ArchiveException($"{what} name leaves the destination with '..': {Display(name)}");
            if (length > 0)
            {
                lastSlash = length;
                output[length++] = (byte)'/';
            }
            component.CopyTo(output[length..]);
            length += component.Length;
        }
        return length;
    }

    public static string Display(ReadOnlySpan<byte> name) =>
        System.Text.Encoding.UTF8.GetString(name.Length > 200 ? name[..200] : name);
}
