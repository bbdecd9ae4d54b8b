namespace Wsd.Errors;

/// <summary>
/// A failure the caller should see as it is: the code says how to react, the message is written
/// for the person reading it (REF §2.8 texts where upstream clients depend on them).
/// </summary>
public class WsdException(ErrorCode code, string message, Exception? inner = null) : Exception(message, inner)
{
    public ErrorCode Code { get; } = code;
}
