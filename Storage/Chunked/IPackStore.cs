namespace Wsd.Storage.Chunked;

/// <summary>
/// Where one owner's packs live (<c>&lt;owner&gt;/chunks/packs/&lt;sha256&gt;</c> on a store). A pack is
/// written once, whole, and never changed; reads are byte ranges of it.
/// </summary>
public interface IPackStore
{
    /// <summary>Stores a finished pack under its name; it is visible only once whole. The bytes are the store's to keep.</summary>
    void Put(ChunkId pack, ReadOnlyMemory<byte> bytes);

    /// <summary>
    /// <paramref name="length"/> bytes of <paramref name="pack"/> from <paramref name="offset"/>;
    /// fewer only when the pack is shorter, which the caller treats as damage.
    /// </summary>
    byte[] Read(ChunkId pack, long offset, int length);
}
