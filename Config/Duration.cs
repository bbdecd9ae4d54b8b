using System.Globalization;
using System.Text;

namespace Wsd.Config;

/// <summary>
/// Durations in the Go notation upstream configs use ("90s", "1m30s", "250ms", "1h"), so operators can
/// carry values over unchanged (docs/compatibility.md#configuration-names).
/// </summary>
public static class Duration
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        var s = text.AsSpan().Trim();
        if (s.IsEmpty)
            return false;
        if (s is "0")
            return true;

        long totalTicks = 0;
        while (!s.IsEmpty)
        {
            int numberLength = 0;
            while (numberLength < s.Length && (char.IsAsciiDigit(s[numberLength]) || s[numberLength] == '.'))
                numberLength++;
            if (numberLength == 0 ||
                !decimal.TryParse(s[..numberLength], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
                return false;
            s = s[numberLength..];

            int unitLength = 0;
            while (unitLength < s.Length && !char.IsAsciiDigit(s[unitLength]) && s[unitLength] != '.')
                unitLength++;
            decimal ticksPerUnit = s[..unitLength] switch
            {
                "ns" => 0.01m,
                "us" or "µs" => TimeSpan.TicksPerMicrosecond,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                "h" => TimeSpan.TicksPerHour,
                _ => -1m,
            };
            if (ticksPerUnit < 0)
                return false;
            s = s[unitLength..];

            decimal ticks = number * ticksPerUnit;
            if (ticks > TimeSpan.MaxValue.Ticks - totalTicks)
                return false;
            totalTicks += (long)ticks;
        }
        value = TimeSpan.FromTicks(totalTicks);
        return true;
    }

    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
            return "0s";
        var sb = new StringBuilder();
        if (value.Hours > 0 || value.Days > 0)
            sb.Append((long)value.TotalHours).Append('h');
        if (value.Minutes > 0)
            sb.Append(value.Minutes).Append('m');
        long subMinuteTicks = value.Ticks % TimeSpan.TicksPerMinute;
        if (subMinuteTicks > 0)
        {
            if (subMinuteTicks % TimeSpan.TicksPerSecond == 0)
                sb.Append(subMinuteTicks / TimeSpan.TicksPerSecond).Append('s');
            else if (sb.Length == 0 && subMinuteTicks < TimeSpan.TicksPerSecond && subMinuteTicks % TimeSpan.TicksPerMillisecond == 0)
                sb.Append(subMinuteTicks / TimeSpan.TicksPerMillisecond).Append("ms");
            else
                sb.Append(((decimal)subMinuteTicks / TimeSpan.TicksPerSecond).ToString(CultureInfo.InvariantCulture)).Append('s');
        }
        return sb.ToString();
    }
}
