using ZstdSharp;
using ZstdSharp.Unsafe;

namespace Wsd.Archive.Streams;

/// <summary>
/// Optional zstd around the tar stream. Reading detects it by its magic number, so plain and
/// compressed archives restore alike.
/// </summary>
public static class ArchiveCompression
{
    static ReadOnlySpan<byte> ZstdMagic => [0x28, 0xB5, 0x2F, 0xFD];

    /// <summary>Decompression refuses frames needing a window above 2^27 (128 MiB), bounding memory on hostile input.</summary>
    const int MaxWindowLog = 27;

    /// <summary>A stream that compresses into <paramref name="output"/> at <paramref name="level"/> (1-19) on all cores.</summary>
    public static Stream Compress(Stream output, int level)
    {
        var zstd = new CompressionStream(output, level, leaveOpen: true);
        zstd.SetParameter(ZSTD_cParameter.ZSTD_c_nbWorkers, Environment.ProcessorCount);
        return zstd;
    }

    /// <summary>The tar stream inside <paramref name="input"/>: decompressed when it starts with the zstd magic.</summary>
    public static Stream OpenForReading(Stream input, out bool compressed)
    {
        Span<byte> head = stackalloc byte[4];
        int got = 0;
        while (got < head.Length)
        {
            int n = input.Read(head[got..]);
            if (n == 0)
                break;
            got += n;
        }
        var replayed = new PrefixedStream(head[..got].ToArray(), input);
        compressed = got == 4 && head.SequenceEqual(ZstdMagic);
        if (!compressed)
            return replayed;
        var zstd = new DecompressionStream(replayed, leaveOpen: false);
        zstd.SetParameter(ZSTD_dParameter.ZSTD_d_windowLogMax, MaxWindowLog);
        return zstd;
    }
}
