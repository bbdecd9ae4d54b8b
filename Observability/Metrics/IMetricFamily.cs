using System.Text;

namespace Wsd.Observability.Metrics;

/// <summary>Something the registry can render on /metrics.</summary>
public interface IMetricFamily
{
    string Name { get; }

    void Write(StringBuilder output);
}
