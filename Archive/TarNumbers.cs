namespace Wsd.Archive;

/// <summary>The numeric header fields: octal text, or GNU base-256 for values octal cannot hold.</summary>
public static class TarNumbers
{
    /// <summary>Writes <paramref name="value"/> as zero-padded octal followed by a NUL, filling the field.</summary>
    public static void WriteOctal(Span<byte> field, long value)
    {
        int digits = field.Length - 1;
        field[digits] = 0;
        for (int i = digits - 1; i >= 0; i--)
        {
            field[i] = (byte)('0' + (value & 7));
            value >>= 3;
        }
    }

    /// <summary>Writes a non-negative value in base-256 (high bit of the first byte set), as GNU tar does for large sizes.</summary>
    public static void WriteBase256(Span<byte> field, long value)
    {
        for (int i = field.Length - 1; i > 0; i--)
        {
            field[i] = (byte)value;
            value >>= 8;
        }
        field[0] = 0x80;
    }

    /// <summary>Writes octal when it fits, else base-256.</summary>
    public static void Write(Span<byte> field, long value)
    {
        if (value >= 0 && value <= TarFormat.MaxOctal(field.Length))
            WriteOctal(field, value);
        else
            WriteBase256(field, value);
    }

    /// <summary>Parses a numeric field; false for anything that is not octal or positive base-256 within a long.</summary>
    public static bool TryParse(ReadOnlySpan<byte> field, out long value)
    {
        value = 0;
        if (field.Length == 0)
            return true;
        if ((field[0] & 0x80) != 0)
        {
            if (field[0] != 0x80)
                return false; // negative (0xFF) or malformed base-256
            for (int i = 1; i < field.Length; i++)
            {
                if (value > (long.MaxValue >> 8))
                    return false;
                value = (value << 8) | field[i];
            }
            return true;
        }

        int at = 0;
        while (at < field.Length && (field[at] == ' ' || field[at] == 0))
            at++;
        for (; at < field.Length; at++)
        {
            byte c = field[at];
            if (c == ' ' || c == 0)
                break;
            if (c < '0' || c > '7' || value > (long.MaxValue >> 3))
                return false;
            value = (value << 3) | (uint)(c - '0');
        }
        for (; at < field.Length; at++)
        {
            if (field[at] != ' ' && field[at] != 0)
                return false;
        }
        return true;
    }
}
