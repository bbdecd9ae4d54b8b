using System.Globalization;
using System.Text;

namespace Wsd.Observability.Metrics;

/// <summary>
/// A value read when /metrics is scraped, such as free disk space or resident memory. Its type is
/// "gauge" unless the value only grows (CPU seconds), then "counter".
/// </summary>
public sealed class ScrapedValue(string name, string help, Func<double> read, string type = "gauge", string constantLabels = "") : IMetricFamily
{
    public string Name { get; } = name;

    public void Write(StringBuilder output)
    {
        output.Append("# HELP ").Append(Name).Append(' ').Append(help).Append('\n');
        output.Append("# TYPE ").Append(Name).Append(' ').Append(type).Append('\n');
        output.Append(Name).Append(constantLabels).Append(' ').Append(PrometheusNumber.Format(read())).Append('\n');
    }
}

static class PrometheusNumber
{
    public static string Format(double value) => value switch
    {
        double.NaN => "NaN",
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };
}
