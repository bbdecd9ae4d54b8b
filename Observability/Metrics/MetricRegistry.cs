using System.Text;

namespace Wsd.Observability.Metrics;

/// <summary>
/// The daemon's metrics, rendered on /metrics in the Prometheus text format. Hand-written because it
/// is small: a library would bring runtime-event collectors and their memory along.
/// </summary>
public sealed class MetricRegistry
{
    readonly List<IMetricFamily> _families = [];
    readonly Lock _lock = new();

    public T Register<T>(T family) where T : IMetricFamily
    {
        lock (_lock)
        {
            if (_families.Any(f => f.Name == family.Name))
                throw new InvalidOperationException($"metric {family.Name} is registered twice");
            _families.Add(family);
        }
        return family;
    }

    public string Render()
    {
        IMetricFamily[] families;
        lock (_lock)
            families = [.. _families];
        var output = new StringBuilder(4096);
        foreach (var family in families)
            family.Write(output);
        return output.ToString();
    }
}
