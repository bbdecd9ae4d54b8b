using System.Formats.Tar;
using System.Text;
using BenchmarkDotNet.Attributes;
using Wsd.Archive;

namespace Wsd.Bench;

/// <summary>
/// Encoding and decoding 10,000 member headers (PAX, with sub-second mtimes, as both write them),
/// wsd's engine beside System.Formats.Tar. Data is left out so the header path alone is measured.
/// </summary>
[MemoryDiagnoser]
public class TarHeaderBenchmarks
{
    const int Entries = 10_000;
    readonly string[] _names = new string[Entries];
    readonly byte[][] _nameBytes = new byte[Entries][];
    readonly DateTimeOffset _mtime = new DateTimeOffset(2024, 2, 29, 12, 34, 56, TimeSpan.Zero).AddTicks(1234567);
    byte[] _archive = [];

    [GlobalSetup]
    public void Setup()
    {
        for (int i = 0; i < Entries; i++)
        {
            _names[i] = $"src/module{i % 40:D2}/pkg{i / 40 % 25:D2}/sub{i / 1000}/File{i:D6}.cs";
            _nameBytes[i] = Encoding.UTF8.GetBytes(_names[i]);
        }
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var name in _names)
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { ModificationTime = _mtime, Uid = 33333, Gid = 33333 });
        }
        _archive = buffer.ToArray();
    }

    [Benchmark(Baseline = true)]
    public void EncodeSystemFormatsTar()
    {
        using var writer = new TarWriter(Stream.Null, TarEntryFormat.Pax, leaveOpen: true);
        foreach (var name in _names)
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { ModificationTime = _mtime, Uid = 33333, Gid = 33333 });
    }

    [Benchmark]
    public void EncodeWsd()
    {
        using var output = new TarOutput(Stream.Null);
        var headers = new TarHeaderWriter();
        var entry = new Wsd.Archive.TarEntry();
        foreach (var name in _nameBytes)
        {
            entry.Reset();
            entry.SetName(name);
            entry.Mode = 0x1A4;
            entry.Uid = entry.Gid = 33333;
            entry.MtimeSeconds = _mtime.ToUnixTimeSeconds();
            entry.MtimeNanoseconds = 123_456_700;
            headers.Write(output, entry);
        }
        output.Finish();
    }

    [Benchmark]
    public int DecodeSystemFormatsTar()
    {
        int count = 0;
        using var reader = new TarReader(new MemoryStream(_archive));
        while (reader.GetNextEntry(copyData: false) is not null)
            count++;
        return count;
    }

    [Benchmark]
    public int DecodeWsd()
    {
        int count = 0;
        using var input = new TarInput(new MemoryStream(_archive));
        var reader = new TarEntryReader(input, 1 << 20);
        var entry = new Wsd.Archive.TarEntry();
        while (reader.Next(entry))
        {
            input.Skip(entry.Size + TarFormat.PaddingOf(entry.Size));
            count++;
        }
        return count;
    }
}
