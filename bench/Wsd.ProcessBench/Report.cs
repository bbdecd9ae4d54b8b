using System.Globalization;
using System.Net;
using System.Text;

namespace Wsd.ProcessBench;

/// <summary>
/// One report for one benchmark run: every figure beside its peer measured in the same run, and
/// the ratio (wsd ÷ peer; lower is better for every row: time and memory), then what became of
/// each stage. Written, with an SVG bar chart of the same ratios, to out/bench/ after every stage,
/// so a run that dies late keeps what it measured; printed at the end.
/// </summary>
sealed class Report(string commit, DateTime started)
{
    public sealed record Row(string Section, string Measure, string Wsd, string Peer, string PeerValue, double Ratio);

    readonly List<Row> _rows = [];
    // Every stage asked for, in order, with "not run yet" until it has run: a report read while
    // the run goes on (or after it died) says what is still missing.
    readonly List<(string Stage, string Outcome)> _stages = [];

    public void Add(string section, string measure, string wsd, string peer, string peerValue, double ratio) =>
        _rows.Add(new Row(section, measure, wsd, peer, peerValue, ratio));

    public void Plan(IEnumerable<string> stages) => _stages.AddRange(stages.Select(s => (s, "not run yet")));

    public void Done(string stage, TimeSpan took) => Set(stage, F($"done in {took.TotalSeconds:F0} s"));

    public void Skipped(string stage, string why) => Set(stage, $"skipped: {why}");

    public void Failed(string stage, string message) => Set(stage, $"failed: {message.ReplaceLineEndings(" ")}");

    public bool AnyFailed => _stages.Any(s => s.Outcome.StartsWith("failed:", StringComparison.Ordinal));

    void Set(string stage, string outcome) => _stages[_stages.FindIndex(s => s.Stage == stage && s.Outcome == "not run yet")] = (stage, outcome);

    static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The machine the figures come from: they mean little without it.</summary>
    public static string Machine()
    {
        string cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        long memKb = long.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        string os = File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?["PRETTY_NAME=".Length..].Trim('"') ?? "Linux";
        return F($"{Environment.ProcessorCount} × {cpu}, {memKb / 1048576.0:F0} GiB RAM, {os}, kernel {Environment.OSVersion.Version}");
    }

    public string Markdown()
    {
        var text = new StringBuilder();
        text.AppendLine(F($"# wsd benchmark report"));
        text.AppendLine();
        text.AppendLine(F($"{started:yyyy-MM-dd HH:mm} UTC, commit {commit}, on {Machine()}."));
        text.AppendLine("Every peer ran in the same run on the same data; ratio = wsd ÷ peer, lower is better (time, memory).");
        text.AppendLine();
        text.AppendLine("| section | measure | wsd | peer | peer's figure | ratio |");
        text.AppendLine("|---|---|---|---|---|---|");
        foreach (var row in _rows)
            text.AppendLine(F($"| {row.Section} | {row.Measure} | {row.Wsd} | {row.Peer} | {row.PeerValue} | {row.Ratio:F2} |"));
        text.AppendLine();
        text.AppendLine("Stages:");
        text.AppendLine();
        foreach (var (stage, outcome) in _stages)
            text.AppendLine($"- {stage}: {outcome}");
        return text.ToString();
    }

    /// <summary>
    /// Horizontal bars on a log scale centred on 1: a bar to the left (green) is wsd ahead by that
    /// factor, to the right (orange) behind. Log, because 0.5 and 2 are the same distance from even.
    /// </summary>
    public string Svg()
    {
        const int labelWidth = 430, chartWidth = 420, rowHeight = 26, top = 46, right = 70;
        const double maxFactor = 16; // the axis spans 1/16 .. 16
        int height = top + _rows.Count * rowHeight + 40, width = labelWidth + chartWidth + right;
        double center = labelWidth + chartWidth / 2.0, halfWidth = chartWidth / 2.0;
        double X(double ratio) => center + Math.Clamp(Math.Log(ratio, maxFactor), -1, 1) * halfWidth;

        var svg = new StringBuilder();
        svg.AppendLine(F($"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"""));
        svg.AppendLine(F($"""<rect width="{width}" height="{height}" fill="white"/>"""));
        svg.AppendLine(F($"""<text x="{width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">wsd ÷ peer (log scale; left of 1 = wsd better)</text>"""));
        foreach (double tick in (double[])[1 / 16.0, 1 / 4.0, 1 / 2.0, 1, 2, 4, 16])
        {
            double x = X(tick);
            svg.AppendLine(F($"""<line x1="{x:F1}" y1="{top - 8}" x2="{x:F1}" y2="{top + _rows.Count * rowHeight}" stroke="{(tick == 1 ? "#333" : "#ddd")}"/>"""));
            string label = tick >= 1 ? F($"{tick:0}") : F($"1/{1 / tick:0}");
            svg.AppendLine(F($"""<text x="{x:F1}" y="{top + _rows.Count * rowHeight + 16}" text-anchor="middle" fill="#555">{label}</text>"""));
        }
        for (int i = 0; i < _rows.Count; i++)
        {
            var row = _rows[i];
            double y = top + i * rowHeight;
            double x = X(row.Ratio);
            string colour = row.Ratio <= 1 ? "#2e9e5b" : "#e08a2c";
            svg.AppendLine(F($"""<text x="{labelWidth - 8}" y="{y + rowHeight / 2 + 4:F1}" text-anchor="end">{WebUtility.HtmlEncode($"{row.Measure} vs {row.Peer}")}</text>"""));
            svg.AppendLine(F($"""<rect x="{Math.Min(x, center):F1}" y="{y + 4}" width="{Math.Max(Math.Abs(x - center), 1):F1}" height="{rowHeight - 8}" fill="{colour}"/>"""));
            double labelX = row.Ratio <= 1 ? Math.Max(x - 4, labelWidth + 2) : x + 4;
            svg.AppendLine(F($"""<text x="{labelX:F1}" y="{y + rowHeight / 2 + 4:F1}" text-anchor="{(row.Ratio <= 1 ? "end" : "start")}" fill="#222">{row.Ratio:F2}</text>"""));
        }
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    /// <summary>Both files, each replaced in one step; the chart first, so the markdown never names a chart older than itself.</summary>
    public void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, "report.svg"), Svg());
        AtomicFile.WriteAllText(Path.Combine(directory, "report.md"), Markdown() + "\n![ratios](report.svg)\n");
    }
}
