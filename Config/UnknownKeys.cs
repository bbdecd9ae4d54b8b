using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Wsd.Config;

/// <summary>
/// Finds the first key that the configuration types do not have, walking the JSON alongside the
/// source-generated metadata so the error can give the key's full path and line.
/// </summary>
static class UnknownKeys
{
    /// <summary>The first unknown key as ("service.adress", line), or null; malformed JSON is left to the deserializer.</summary>
    public static (string Key, long Line)? Find(ReadOnlySpan<byte> json, JsonTypeInfo root)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions
        {
            CommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
        });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return null;
            return Walk(ref reader, json, root, "");
        }
        catch (JsonException)
        {
            return null;
        }
    }

    static (string Key, long Line)? Walk(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, JsonTypeInfo type, string prefix)
    {
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string name = reader.GetString()!;
            long line = LineOf(json, reader.TokenStartIndex);
            var property = type.Properties.FirstOrDefault(p => p.Name == name);
            if (property is null)
                return (prefix + name, line);

            reader.Read();
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                var nested = type.Options.GetTypeInfo(property.PropertyType);
                if (nested.Kind == JsonTypeInfoKind.Object)
                {
                    if (Walk(ref reader, json, nested, prefix + name + ".") is { } found)
                        return found;
                    continue;
                }
            }
            reader.Skip();
        }
        return null;
    }

    static long LineOf(ReadOnlySpan<byte> json, long offset) => json[..(int)offset].Count((byte)'\n') + 1;
}
