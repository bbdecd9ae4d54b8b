using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Wsd.Archive;

/// <summary>The header checksum: the sum of the 512 header bytes with the checksum field counted as spaces.</summary>
public static class TarChecksum
{
    const int FieldSum = 8 * ' ';

    /// <summary>The unsigned sum POSIX defines (SIMD: sum-of-absolute-differences against zero).</summary>
    public static int Unsigned(ReadOnlySpan<byte> header)
    {
        header = header[..TarFormat.BlockSize];
        int field = 0;
        for (int i = TarFormat.ChecksumOffset; i < TarFormat.ChecksumOffset + TarFormat.ChecksumLength; i++)
            field += header[i];

        int total = 0;
        if (Sse2.IsSupported)
        {
            var sum = Vector128<ulong>.Zero;
            for (int at = 0; at < TarFormat.BlockSize; at += 16)
                sum += Sse2.SumAbsoluteDifferences(Vector128.Create(header.Slice(at, 16)), Vector128<byte>.Zero).AsUInt64();
            total = (int)(sum.GetElement(0) + sum.GetElement(1));
        }
        else
        {
            foreach (byte b in header)
                total += b;
        }
        return total - field + FieldSum;
    }

    /// <summary>The signed sum some historic writers used; only consulted when the unsigned one does not match.</summary>
    public static int Signed(ReadOnlySpan<byte> header)
    {
        int total = 0;
        for (int i = 0; i < TarFormat.BlockSize; i++)
            total += i >= TarFormat.ChecksumOffset && i < TarFormat.ChecksumOffset + TarFormat.ChecksumLength ? ' ' : (sbyte)header[i];
        return total;
    }
}
