using Wsd.Interop;

namespace Wsd.Archive;

/// <summary>
/// Where a regular file holds data, found with SEEK_DATA/SEEK_HOLE so a sparse file is archived
/// without reading its holes (a `truncate -s 16G` file costs the user nothing and must not cost
/// the daemon 16 GiB either). The map is bounded: past <see cref="MaxRegions"/> regions, small
/// holes are folded into the data around them, which stores some zeros but keeps memory fixed.
/// </summary>
static class SparseRegions
{
    /// <summary>Most regions wsd writes for one file; a reader's limit (<see cref="TarEntryReader"/>) is higher.</summary>
    public const int MaxRegions = 1 << 16;

    /// <summary>
    /// Fills <paramref name="map"/> with the data regions of <paramref name="fd"/> up to
    /// <paramref name="size"/>, ending with a (size, 0) region when the file ends in a hole, as GNU
    /// tar does. False, with the file position back at 0, when the file has no hole: the caller
    /// archives it plainly. The cheap test comes first: a file with as many blocks as bytes is dense.
    /// </summary>
    public static bool TryMap(int fd, in StatxBuffer st, List<(long Offset, long Length)> map, ReadOnlySpan<byte> path)
    {
        long size = (long)st.Size;
        if (size == 0 || (long)st.Blocks * 512 >= size)
            return false;
        long firstHole = SparseCalls.NextHole(fd, 0, path);
        if (firstHole < 0 || firstHole >= size)
        {
            SparseCalls.SeekTo(fd, 0, path); // SEEK_HOLE moved the position; the plain copy reads from 0
            return false;
        }

        map.Clear();
        long minimumHole = 0;
        for (long at = 0; at < size;)
        {
            long data = SparseCalls.NextData(fd, at, path);
            if (data < 0 || data >= size)
                break;
            long hole = SparseCalls.NextHole(fd, data, path);
            if (hole < 0 || hole > size)
                hole = size; // the file grew meanwhile: what lies past the size taken stays out, as for a plain file
            Add(map, data, hole - data, minimumHole);
            if (map.Count >= MaxRegions)
                minimumHole = Coalesce(map, minimumHole);
            at = hole;
        }
        if (map.Count == 0 || map[^1].Offset + map[^1].Length < size)
            map.Add((size, 0));
        return true;
    }

    static void Add(List<(long Offset, long Length)> map, long offset, long length, long minimumHole)
    {
        if (map.Count > 0 && offset - (map[^1].Offset + map[^1].Length) < minimumHole)
            map[^1] = (map[^1].Offset, offset + length - map[^1].Offset);
        else
            map.Add((offset, length));
    }

    /// <summary>Doubles the smallest hole kept and merges in place until the map is at most half full.</summary>
    internal static long Coalesce(List<(long Offset, long Length)> map, long minimumHole)
    {
        while (map.Count > MaxRegions / 2)
        {
            minimumHole = Math.Max(4096, minimumHole * 2);
            int kept = 0;
            for (int i = 1; i < map.Count; i++)
            {
                var last = map[kept];
                var next = map[i];
                if (next.Offset - (last.Offset + last.Length) < minimumHole)
                    map[kept] = (last.Offset, next.Offset + next.Length - last.Offset);
                else
                    map[++kept] = next;
            }
            map.RemoveRange(kept + 1, map.Count - kept - 1);
        }
        return minimumHole;
    }
}
