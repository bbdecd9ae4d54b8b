using System.Text.Json;
using System.Text.Json.Serialization;

namespace Wsd.Config;

/// <summary>Reads a duration as a Go duration string or, like upstream, a number of nanoseconds.</summary>
public sealed class DurationJsonConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long nanoseconds) && nanoseconds >= 0)
            return TimeSpan.FromTicks(nanoseconds / 100);
        if (reader.TokenType == JsonTokenType.String && Duration.TryParse(reader.GetString()!, out var value))
            return value;
        throw new JsonException("expected a duration such as \"15s\", \"1m30s\" or \"500ms\"");
    }

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
        writer.WriteStringValue(Duration.Format(value));
}
