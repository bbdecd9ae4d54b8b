using System.Text.Json;
using System.Text.Json.Serialization;

namespace Wsd.Config;

/// <summary>
/// Reads and writes a setting that is one of a few names (a kind, a mode) as its enum, so the rest
/// of the daemon compares enums, never strings. An unknown name fails the load with the choices.
/// </summary>
public abstract class ChoiceJsonConverter<T>(params (string Name, T Value)[] choices) : JsonConverter<T> where T : struct, Enum
{
    /// <summary>The names, in the order the documentation gives them.</summary>
    public string Names { get; } = string.Join(", ", choices.Select(c => c.Name));

    public bool TryParse(string text, out T value)
    {
        foreach (var (name, choice) in choices)
        {
            if (name == text)
            {
                value = choice;
                return true;
            }
        }
        value = default;
        return false;
    }

    public string NameOf(T value)
    {
        foreach (var (name, choice) in choices)
        {
            if (EqualityComparer<T>.Default.Equals(choice, value))
                return name;
        }
        throw new ArgumentOutOfRangeException(nameof(value), value, $"no configuration name for {typeof(T).Name} {value}");
    }

    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        string text = reader.TokenType == JsonTokenType.String ? reader.GetString()! : $"{reader.TokenType}".ToLowerInvariant();
        return TryParse(text, out var value) ? value : throw new JsonException($"'{text}' is not one of {Names}");
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(NameOf(value));
}
