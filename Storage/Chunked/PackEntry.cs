namespace Wsd.Storage.Chunked;

/// <summary>Where one chunk lies in its pack and how it is stored there.</summary>
public readonly record struct PackEntry(ChunkId Id, long Offset, int StoredLength, int PlainLength, bool Compressed);
