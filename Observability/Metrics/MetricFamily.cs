using System.Collections.Concurrent;
using System.Text;

namespace Wsd.Observability.Metrics;

/// <summary>
/// One named metric with labelled children, rendered in the Prometheus text exposition format.
/// Children are created on first use and live for the process lifetime, so label values must come
/// from small fixed sets (method names, status codes), never from workspace IDs.
/// </summary>
public abstract class MetricFamily<TChild>(string name, string help, string type, string[] labelNames) : IMetricFamily
    where TChild : class
{
    readonly ConcurrentDictionary<string, (string[] Values, TChild Child)> _children = new(StringComparer.Ordinal);

    public string Name { get; } = name;

    /// <summary>The child for these label values, in the order of the label names.</summary>
    public TChild WithLabels(params string[] values)
    {
        if (values.Length != labelNames.Length)
            throw new ArgumentException($"{Name} takes {labelNames.Length} label values, got {values.Length}");
        string key = values.Length == 1 ? values[0] : string.Join('\u001f', values);
        if (_children.TryGetValue(key, out var existing))
            return existing.Child;
        return _children.GetOrAdd(key, _ => ((string[])values.Clone(), CreateChild())).Child;
    }

    protected abstract TChild CreateChild();

    protected abstract void WriteChild(StringBuilder output, string labels, TChild child);

    public void Write(StringBuilder output)
    {
        output.Append("# HELP ").Append(Name).Append(' ').Append(help).Append('\n');
        output.Append("# TYPE ").Append(Name).Append(' ').Append(type).Append('\n');
        foreach (var (values, child) in _children.Values.OrderBy(c => string.Join('\u001f', c.Values), StringComparer.Ordinal))
            WriteChild(output, FormatLabels(values), child);
    }

    string FormatLabels(string[] values)
    {
        if (values.Length == 0)
            return "";
        var sb = new StringBuilder("{");
        for (int i = 0; i < values.Length; i++)
        {
            if (i > 0)
                sb.Append(',');
            sb.Append(labelNames[i]).Append("=\"");
            foreach (char c in values[i])
            {
                switch (c)
                {
                    case '\\': sb.Append("\\\\"); break;
                    case '"': sb.Append("\\\""); break;
                    case '\n': sb.Append("\\n"); break;
                    default: sb.Append(c); break;
                }
            }
            sb.Append('"');
        }
        return sb.Append('}').ToString();
    }

    /// <summary>Adds one more label to an already formatted label set (used for histogram buckets).</summary>
    protected static string WithExtraLabel(string labels, string name, string value) =>
        labels.Length == 0 ? $"{{{name}=\"{value}\"}}" : $"{labels[..^1]},{name}=\"{value}\"}}";
}
