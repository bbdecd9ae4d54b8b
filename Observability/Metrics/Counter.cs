using System.Globalization;
using System.Text;

namespace Wsd.Observability.Metrics;

/// <summary>A monotonically increasing count.</summary>
public sealed class Counter
{
    long _value;

    public long Value => Interlocked.Read(ref _value);

    public void Inc(long by = 1) => Interlocked.Add(ref _value, by);
}

public sealed class CounterFamily(string name, string help, params string[] labelNames)
    : MetricFamily<Counter>(name, help, "counter", labelNames)
{
    protected override Counter CreateChild() => new();

    protected override void WriteChild(StringBuilder output, string labels, Counter child) =>
        output.Append(Name).Append(labels).Append(' ').Append(child.Value.ToString(CultureInfo.InvariantCulture)).Append('\n');
}
