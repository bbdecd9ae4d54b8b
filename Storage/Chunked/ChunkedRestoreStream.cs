using Wsd.Errors;

namespace Wsd.Storage.Chunked;

/// <summary>
/// The tar stream a chunked backup stands for, read chunk by chunk from its packs, every chunk
/// checked against its ID before a byte of it is handed on (docs/chunked-backups.md, "Storage layout
/// (planned)"). The recipe is read first, from the chunks the manifest names; the stream must come to
/// exactly the manifest's length.
/// </summary>
public sealed class ChunkedRestoreStream : Stream
{
    readonly IPackStore _store;
    readonly string _name;
    readonly ChunkRef[] _recipe;
    readonly long _length;
    int _next;
    byte[] _current = [];
    int _offset;
    long _position;

    /// <param name="name">The backup's object, for messages.</param>
    public ChunkedRestoreStream(IPackStore store, ChunkedManifest manifest, string name)
    {
        _store = store;
        _name = name;
        _length = manifest.StreamLength;
        _recipe = ReadRecipe(store, manifest, name);
        long total = _recipe.Sum(r => (long)r.Entry.PlainLength);
        if (total != _length)
            throw new WsdException(ErrorCode.DataLoss, $"{name} is damaged: its recipe makes {total} bytes, its manifest says {_length}");
    }

    /// <summary>The chunks of the stream a manifest stands for, read from the recipe chunks it names.</summary>
    public static ChunkRef[] ReadRecipe(IPackStore store, ChunkedManifest manifest, string name)
    {
        using var recipe = new MemoryStream();
        foreach (var piece in manifest.Recipe)
            recipe.Write(Fetch(store, piece, name));
        return ChunkRef.ReadAll(recipe.GetBuffer().AsSpan(0, (int)recipe.Length), name);
    }

    byte[] Fetch(ChunkRef piece) => Fetch(_store, piece, _name);

    static byte[] Fetch(IPackStore store, ChunkRef piece, string name)
    {
        byte[] stored = store.Read(piece.Pack, piece.Entry.Offset, piece.Entry.StoredLength);
        return PackReader.ReadChunk(piece.Entry, stored, $"{piece.Pack} (for {name})");
    }

    public override int Read(Span<byte> destination)
    {
        while (_offset == _current.Length)
        {
            if (_next == _recipe.Length)
                return 0;
            _current = Fetch(_recipe[_next++]);
            _offset = 0;
        }
        int n = Math.Min(destination.Length, _current.Length - _offset);
        _current.AsSpan(_offset, n).CopyTo(destination);
        _offset += n;
        _position += n;
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
