using System.Text.Json;

namespace Wsd.Cli;

/// <summary>One JSON object on one line, the output form of the operator commands.</summary>
static class JsonLine
{
    public static string Of(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Prints a failed call as {"error": status, "message": detail}; returns exit code 1.</summary>
    public static int PrintError(Grpc.Core.RpcException e)
    {
        Console.WriteLine(Of(json =>
        {
            json.WriteString("error", e.StatusCode.ToString());
            json.WriteString("message", e.Status.Detail);
        }));
        return 1;
    }
}
