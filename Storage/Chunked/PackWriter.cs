using System.Buffers.Binary;
using System.Security.Cryptography;
using ZstdSharp;

namespace Wsd.Storage.Chunked;

/// <summary>
/// Writes one pack (<see cref="PackFormat"/>) into a stream: chunks as they come, then at
/// <see cref="Finish"/> the table and the footer. The pack's name is taken from its table once it is
/// whole (<see cref="PackFormat.NameOf"/>).
/// </summary>
public sealed class PackWriter : IDisposable
{
    readonly Stream _output;
    readonly Compressor? _compressor;
    readonly List<PackEntry> _entries = [];
    byte[] _scratch = [];
    long _length;
    bool _finished;

    /// <param name="zstdLevel">0 stores chunks as they are; another zstd level (the fast negative ones included) compresses each one on its own.</param>
    public PackWriter(Stream output, int zstdLevel = 0)
    {
        _output = output;
        _compressor = zstdLevel != 0 ? new Compressor(zstdLevel) : null;
    }

    /// <summary>Bytes written so far: the caller closes a pack once it reaches its target size.</summary>
    public long Length => _length;

    public IReadOnlyList<PackEntry> Entries => _entries;

    /// <summary>Stores <paramref name="plain"/>, compressed when that saves at least a sixteenth of it.</summary>
    public PackEntry Add(ReadOnlySpan<byte> plain) => Add(plain, ChunkId.Of(plain));

    /// <summary>The same, for a caller that has hashed the chunk already (to look it up first); <paramref name="compress"/> false stores it plain whatever the level.</summary>
    public PackEntry Add(ReadOnlySpan<byte> plain, ChunkId id, bool compress = true)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        if (plain.Length > PackFormat.MaxChunkBytes)
            throw new ArgumentOutOfRangeException(nameof(plain), plain.Length, $"a chunk holds at most {PackFormat.MaxChunkBytes} bytes");
        ReadOnlySpan<byte> stored = plain;
        bool compressed = false;
        if (_compressor is not null && compress)
        {
            int bound = Compressor.GetCompressBound(plain.Length);
            if (_scratch.Length < bound)
                _scratch = new byte[bound];
            int n = _compressor.Wrap(plain, _scratch);
            if (n <= plain.Length - plain.Length / 16)
            {
                stored = _scratch.AsSpan(0, n);
                compressed = true;
            }
        }
        var entry = new PackEntry(id, _length, stored.Length, plain.Length, compressed);
        Emit(stored);
        _entries.Add(entry);
        return entry;
    }

    /// <summary>Writes the table and the footer: the pack is whole.</summary>
    public void Finish()
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        _finished = true;
        long tableOffset = _length;
        var table = new byte[_entries.Count * PackFormat.EntrySize];
        for (int i = 0; i < _entries.Count; i++)
        {
            var entry = _entries[i];
            var at = table.AsSpan(i * PackFormat.EntrySize, PackFormat.EntrySize);
            entry.Id.Write(at);
            BinaryPrimitives.WriteInt64BigEndian(at[32..], entry.Offset);
            BinaryPrimitives.WriteInt32BigEndian(at[40..], entry.StoredLength);
            BinaryPrimitives.WriteInt32BigEndian(at[44..], entry.PlainLength);
            at[48] = entry.Compressed ? PackFormat.Zstd : (byte)0;
        }
        Emit(table);
        Span<byte> footer = stackalloc byte[PackFormat.FooterSize];
        footer.Clear();
        PackFormat.Magic.CopyTo(footer);
        BinaryPrimitives.WriteInt32BigEndian(footer[12..], _entries.Count);
        BinaryPrimitives.WriteInt64BigEndian(footer[16..], tableOffset);
        SHA256.HashData(table, footer[24..56]);
        Emit(footer);
    }

    void Emit(ReadOnlySpan<byte> bytes)
    {
        _output.Write(bytes);
        _length += bytes.Length;
    }

    public void Dispose()
    {
        _compressor?.Dispose();
    }
}
