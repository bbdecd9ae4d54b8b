using Wsd.Storage.Chunked;

namespace Wsd.Tests.Support;

/// <summary>A pack store in memory, for the chunked backup's unit tests (a dictionary of whole packs).</summary>
public sealed class MemoryPackStore : IPackStore
{
    public readonly Dictionary<ChunkId, byte[]> Packs = [];

    public Task PutAsync(ChunkId pack, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        lock (Packs)
            Packs[pack] = bytes.ToArray();
        return Task.CompletedTask;
    }

    public Task<int> ReadAsync(ChunkId pack, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        byte[] all;
        lock (Packs)
            all = Packs[pack];
        var available = all.AsSpan((int)Math.Min(offset, all.Length));
        int n = Math.Min(destination.Length, available.Length);
        available[..n].CopyTo(destination.Span);
        return Task.FromResult(n);
    }

    public long Bytes => Packs.Values.Sum(p => (long)p.Length);
}
