namespace Wsd.Cli;

/// <summary>A command line that does not make sense; answered with the usage text and exit code 2.</summary>
sealed class UsageException(string message) : Exception(message);
