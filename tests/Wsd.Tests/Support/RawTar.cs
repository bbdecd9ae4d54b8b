using System.Text;

namespace Wsd.Tests.Support;

/// <summary>
/// Builds tar streams byte by byte, including ones no honest tool writes: the corpus of hostile
/// archives is made here, by the tests, not downloaded. Independent of wsd's own header writer.
/// </summary>
public sealed class RawTar
{
    readonly MemoryStream _data = new();

    public RawTar File(string name, string content, int mode = 0x1A4) =>
        Entry(name, '0', Encoding.UTF8.GetBytes(content), mode: mode);

    public RawTar Directory(string name, int mode = 0x1ED) => Entry(name, '5', [], mode: mode);

    public RawTar Symlink(string name, string target) => Entry(name, '2', [], linkName: target);

    public RawTar HardLink(string name, string target) => Entry(name, '1', [], linkName: target);

    public RawTar CharDevice(string name, int major, int minor) => Entry(name, '3', [], devMajor: major, devMinor: minor);

    /// <summary>A PAX extended header with these records, applying to the next entry.</summary>
    public RawTar Pax(params (string Key, string Value)[] records)
    {
        var body = new StringBuilder();
        foreach (var (key, value) in records)
        {
            int recordBody = Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(value) + 3; // " key=value\n"
            int length = recordBody + 1;
            while (length.ToString().Length + recordBody != length)
                length = recordBody + length.ToString().Length;
            body.Append(length).Append(' ').Append(key).Append('=').Append(value).Append('\n');
        }
        return Entry("././@PaxHeader", 'x', Encoding.UTF8.GetBytes(body.ToString()));
    }

    /// <summary>A header with exactly these fields; <paramref name="sizeField"/> overrides the size field's bytes.</summary>
    public RawTar Entry(string name, char type, byte[] content, int mode = 0x1A4, string linkName = "", int devMajor = 0, int devMinor = 0,
        byte[]? sizeField = null, bool writeContent = true, bool corruptChecksum = false)
    {
        var header = new byte[512];
        Put(header, 0, 100, Encoding.UTF8.GetBytes(name));
        Octal(header, 100, 8, mode);
        Octal(header, 108, 8, 0);
        Octal(header, 116, 8, 0);
        if (sizeField is not null)
            sizeField.CopyTo(header, 124);
        else
            Octal(header, 124, 12, content.Length);
        Octal(header, 136, 12, 1_700_000_000);
        header[156] = (byte)type;
        Put(header, 157, 100, Encoding.UTF8.GetBytes(linkName));
        Put(header, 257, 6, "ustar\0"u8.ToArray());
        Put(header, 263, 2, "00"u8.ToArray());
        Octal(header, 329, 8, devMajor);
        Octal(header, 337, 8, devMinor);
        for (int i = 148; i < 156; i++)
            header[i] = (byte)' ';
        int sum = header.Sum(b => b) + (corruptChecksum ? 1 : 0);
        Octal(header, 148, 7, sum);
        header[155] = (byte)' ';
        _data.Write(header);
        if (writeContent)
        {
            _data.Write(content);
            _data.Write(new byte[(512 - content.Length % 512) % 512]);
        }
        return this;
    }

    public RawTar Raw(byte[] bytes)
    {
        _data.Write(bytes);
        return this;
    }

    /// <summary>The stream with the end-of-archive marker.</summary>
    public byte[] Build() => [.. _data.ToArray(), .. new byte[1024]];

    /// <summary>The stream as it is, without an end marker.</summary>
    public byte[] BuildWithoutEnd() => _data.ToArray();

    static void Put(byte[] header, int offset, int length, byte[] value) =>
        value.AsSpan(0, Math.Min(length, value.Length)).CopyTo(header.AsSpan(offset));

    static void Octal(byte[] header, int offset, int length, long value)
    {
        var text = Convert.ToString(value, 8).PadLeft(length - 1, '0');
        Put(header, offset, length - 1, Encoding.ASCII.GetBytes(text));
        header[offset + length - 1] = 0;
    }
}
