namespace Wsd.Storage.Chunked;

/// <summary>
/// Where one owner's packs live (<c>&lt;owner&gt;/chunks/packs/&lt;sha256&gt;</c> on a store). A pack is
/// written once, whole, and never changed; reads are byte ranges of it.
/// </summary>
public interface IPackStore
{
    /// <summary>
    /// Stores a finished pack under its name; it is visible only once whole. The bytes are the
    /// caller's again once the task is done: a backup fills the same buffer with its next pack but one.
    /// </summary>
    Task PutAsync(ChunkId pack, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken);

    /// <summary>
    /// Fills <paramref name="destination"/> with <paramref name="pack"/>'s bytes from
    /// <paramref name="offset"/>, answering how many: fewer only when the pack is shorter, which the
    /// caller treats as damage. A missing pack is DATA_LOSS.
    /// </summary>
    Task<int> ReadAsync(ChunkId pack, long offset, Memory<byte> destination, CancellationToken cancellationToken);
}
