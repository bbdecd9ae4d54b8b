using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Wsd.Storage.Chunked;

/// <summary>
/// Content-defined chunk boundaries: FastCDC's gear hash with normalized chunking
/// (docs/chunked-backups.md, "Chunk boundaries"). A boundary depends only on the bytes just before
/// it, so an insertion or a deletion moves the boundaries near it and no others: the chunks before
/// and after the edit stay the same chunks, and a backup stores again only what changed.
/// </summary>
/// <remarks>
/// The gear table and the masks decide every boundary wsd will ever cut: changing either makes every
/// stored chunk look new to the next backup. They are pinned by a test.
/// </remarks>
public sealed class ContentDefinedChunker
{
    /// <summary>256 pseudo-random words from SplitMix64 seeded with <see cref="GearSeed"/>.</summary>
    static readonly ulong[] Gear = MakeGear();

    /// <summary>"wsd-gear" in ASCII: any fixed seed would do, as long as it never changes.</summary>
    const ulong GearSeed = 0x7773642D67656172;

    readonly int _min, _average, _max;
    readonly ulong _strictMask, _looseMask;

    /// <param name="averageBytes">The target chunk size, a power of two of at least 256 bytes.</param>
    /// <param name="minBytes">No boundary before this many bytes (the skipped bytes are not hashed).</param>
    /// <param name="maxBytes">A boundary at this many bytes at the latest.</param>
    public ContentDefinedChunker(int minBytes, int averageBytes, int maxBytes)
    {
        if (averageBytes < 256 || !BitOperations.IsPow2(averageBytes))
            throw new ArgumentOutOfRangeException(nameof(averageBytes), averageBytes, "must be a power of two of at least 256");
        if (minBytes < 64 || minBytes >= averageBytes || maxBytes <= averageBytes)
            throw new ArgumentOutOfRangeException(nameof(minBytes), $"need 64 <= min ({minBytes}) < average ({averageBytes}) < max ({maxBytes})");
        _min = minBytes;
        _average = averageBytes;
        _max = maxBytes;
        // Normalized chunking, level 2: before the average a cut needs two bits more than log2(average)
        // to be zero, after it two bits fewer, which gathers the sizes around the average. The mask
        // takes the hash's top bits: with a shift-left gear hash they depend on the most bytes.
        int bits = BitOperations.Log2((uint)averageBytes);
        _strictMask = TopBits(bits + 2);
        _looseMask = TopBits(bits - 2);
    }

    public int MinBytes => _min;
    public int MaxBytes => _max;

    /// <summary>
    /// The length of the chunk that starts at <paramref name="data"/>[0]. Give it at least
    /// <see cref="MaxBytes"/> bytes unless <paramref name="data"/> is the rest of the stream: a chunk
    /// shorter than that is cut only where the content says so or where the data ends.
    /// </summary>
    public int NextCut(ReadOnlySpan<byte> data)
    {
        if (data.Length <= _min)
            return data.Length;
        int end = Math.Min(data.Length, _max);
        int normal = Math.Min(end, _average);
        // The hot loop of every backup: the bounds are checked once above, not per byte (a byte
        // indexes the 256-word table, and i stays below end <= data.Length).
        ref byte bytes = ref MemoryMarshal.GetReference(data);
        ref ulong gear = ref MemoryMarshal.GetArrayDataReference(Gear);
        ulong hash = 0;
        int i = _min;
        for (; i < normal; i++)
        {
            hash = (hash << 1) + Unsafe.Add(ref gear, Unsafe.Add(ref bytes, i));
            if ((hash & _strictMask) == 0)
                return i + 1;
        }
        for (; i < end; i++)
        {
            hash = (hash << 1) + Unsafe.Add(ref gear, Unsafe.Add(ref bytes, i));
            if ((hash & _looseMask) == 0)
                return i + 1;
        }
        return end;
    }

    static ulong TopBits(int count) => ~0UL << (64 - count);

    static ulong[] MakeGear()
    {
        var gear = new ulong[256];
        ulong state = GearSeed;
        for (int i = 0; i < gear.Length; i++)
        {
            // SplitMix64 (Steele, Lea, Flood 2014): a full-period generator whose outputs are well mixed.
            state += 0x9E3779B97F4A7C15;
            ulong z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            gear[i] = z ^ (z >> 31);
        }
        return gear;
    }
}
