using System.Text;

namespace Wsd.Linux.Sandbox;

/// <summary>One line of a sandboxed program's standard output, valid only during the call.</summary>
public delegate void OutputLine(ReadOnlySpan<byte> line);

/// <summary>Reading a child's output without letting it decide how much memory that takes.</summary>
static class BoundedOutput
{
    /// <summary>The first <paramref name="limit"/> bytes as text, with a note of how much more was dropped; reads to the end.</summary>
    public static async Task<string> CaptureAsync(Stream stream, int limit)
    {
        var kept = new MemoryStream();
        var buffer = new byte[8192];
        long dropped = 0;
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            int take = (int)Math.Min(n, limit - kept.Length);
            kept.Write(buffer, 0, take);
            dropped += n - take;
        }
        string text = Encoding.UTF8.GetString(kept.GetBuffer(), 0, (int)kept.Length);
        return dropped == 0 ? text : $"{text}\n[{dropped} more bytes not kept]";
    }

    /// <summary>Hands over each line (without its newline, as bytes: a million lines cost no strings), cut at <paramref name="maxLine"/> bytes; returns "".</summary>
    public static async Task<string> LinesAsync(Stream stream, int maxLine, OutputLine onLine)
    {
        var line = new byte[maxLine];
        int length = 0;
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            foreach (byte b in buffer.AsSpan(0, n))
            {
                if (b == (byte)'\n')
                {
                    onLine(line.AsSpan(0, length));
                    length = 0;
                }
                else if (length < maxLine)
                {
                    line[length++] = b;
                }
            }
        }
        if (length > 0)
            onLine(line.AsSpan(0, length));
        return "";
    }
}
