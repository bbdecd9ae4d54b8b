namespace Wsd.Errors;

/// <summary>
/// A failure the caller should see as it is: the code says how to react, the message is written
/// for the person reading it (upstream's texts where clients depend on them,
/// docs/compatibility.md#status-codes-and-messages).
/// </summary>
public class WsdException(ErrorCode code, string message, Exception? inner = null) : Exception(message, inner)
{
    public ErrorCode Code { get; } = code;
}
