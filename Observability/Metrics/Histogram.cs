using System.Globalization;
using System.Text;

namespace Wsd.Observability.Metrics;

/// <summary>Observations counted into fixed buckets, plus their sum and count.</summary>
public sealed class Histogram(double[] upperBounds)
{
    readonly long[] _bucketCounts = new long[upperBounds.Length];
    readonly Lock _sumLock = new();
    double _sum;
    long _count;

    public void Observe(double value)
    {
        for (int i = 0; i < upperBounds.Length; i++)
        {
            if (value <= upperBounds[i])
            {
                Interlocked.Increment(ref _bucketCounts[i]);
                break;
            }
        }
        lock (_sumLock)
        {
            _sum += value;
            _count++;
        }
    }

    internal void Write(StringBuilder output, string name, string labels, Func<string, string, string, string> withLabel)
    {
        long cumulative = 0;
        for (int i = 0; i < upperBounds.Length; i++)
        {
            cumulative += Interlocked.Read(ref _bucketCounts[i]);
            output.Append(name).Append("_bucket")
                .Append(withLabel(labels, "le", PrometheusNumber.Format(upperBounds[i])))
                .Append(' ').Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        double sum;
        long count;
        lock (_sumLock)
        {
            sum = _sum;
            count = _count;
        }
        output.Append(name).Append("_bucket").Append(withLabel(labels, "le", "+Inf"))
            .Append(' ').Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        output.Append(name).Append("_sum").Append(labels).Append(' ').Append(PrometheusNumber.Format(sum)).Append('\n');
        output.Append(name).Append("_count").Append(labels).Append(' ').Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }
}

public sealed class HistogramFamily(string name, string help, double[] upperBounds, params string[] labelNames)
    : MetricFamily<Histogram>(name, help, "histogram", labelNames)
{
    protected override Histogram CreateChild() => new(upperBounds);

    protected override void WriteChild(StringBuilder output, string labels, Histogram child) =>
        child.Write(output, Name, labels, WithExtraLabel);
}
