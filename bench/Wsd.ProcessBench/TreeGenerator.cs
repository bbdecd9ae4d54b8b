using System.Text;

namespace Wsd.ProcessBench;

/// <summary>
/// A deterministic tree shaped like a workspace: tens of thousands of small source files in nested
/// package directories, plus a few large binaries, with text-like (compressible) content.
/// </summary>
static class TreeGenerator
{
    static readonly string[] Words =
    [
        "public", "static", "void", "return", "class", "namespace", "using", "var", "int", "string", "if", "else",
        "for", "foreach", "while", "new", "this", "null", "true", "false", "async", "await", "Task", "List",
        "config", "value", "index", "buffer", "stream", "handler", "request", "response", "error", "result",
    ];

    /// <summary>Writes about <paramref name="targetBytes"/> into <paramref name="root"/>; returns (files, bytes).</summary>
    public static (int Files, long Bytes) Create(string root, long targetBytes, int smallFiles)
    {
        var random = new Random(20261127);
        long largeBudget = targetBytes / 2;
        long smallBudget = targetBytes - largeBudget;
        int meanSmall = (int)Math.Max(64, smallBudget / smallFiles);
        var text = MakeText(random, 8 << 20);
        long written = 0;
        int files = 0;

        for (int i = 0; i < smallFiles; i++)
        {
            // About a dozen files per directory, three levels deep, as in a source tree.
            int directory = i / 12;
            string dir = Path.Combine(root, "src", $"module{directory % 40:D2}", $"pkg{directory / 40 % 25:D2}", $"sub{directory / 1000}");
            Directory.CreateDirectory(dir);
            // Sizes skewed like source trees: most files small, some an order of magnitude larger.
            int size = (int)Math.Min(text.Length - 1, meanSmall * -Math.Log(1 - random.NextDouble()));
            int offset = random.Next(text.Length - size);
            using (var file = File.Create(Path.Combine(dir, $"File{i:D6}.cs"), 1))
                file.Write(text, offset, size);
            written += size;
            files++;
        }

        Directory.CreateDirectory(Path.Combine(root, "bin"));
        const int largeFiles = 4;
        for (int i = 0; i < largeFiles; i++)
        {
            long size = largeBudget / largeFiles;
            using var file = File.Create(Path.Combine(root, "bin", $"large{i}.bin"), 1);
            var block = new byte[1 << 20];
            for (long done = 0; done < size; done += block.Length)
            {
                // Half text, half noise: compressible, but not trivially.
                Buffer.BlockCopy(text, random.Next(text.Length - block.Length), block, 0, block.Length / 2);
                random.NextBytes(block.AsSpan(block.Length / 2));
                file.Write(block, 0, (int)Math.Min(block.Length, size - done));
            }
            written += size;
            files++;
        }
        return (files, written);
    }

    static byte[] MakeText(Random random, int length)
    {
        var sb = new StringBuilder(length + 64);
        while (sb.Length < length)
        {
            sb.Append(Words[random.Next(Words.Length)]);
            sb.Append(random.Next(8) == 0 ? '\n' : ' ');
        }
        return Encoding.ASCII.GetBytes(sb.ToString(0, length));
    }
}
