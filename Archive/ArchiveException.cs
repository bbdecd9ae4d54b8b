using Wsd.Errors;

namespace Wsd.Archive;

/// <summary>
/// An archive that cannot be read or restored faithfully: corrupt, truncated, or holding a member
/// that would land outside the destination. Restores report it as DATA_LOSS.
/// </summary>
public sealed class ArchiveException(string message, long offset = -1)
    : WsdException(ErrorCode.DataLoss, offset >= 0 ? $"{message} (at byte {offset} of the tar stream)" : message);
