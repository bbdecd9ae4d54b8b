namespace Wsd.Config;

/// <summary>A configuration that cannot be used; the message names the file and the offending key.</summary>
public sealed class ConfigException(string message) : Exception(message);
