namespace Wsd.Storage;

/// <summary>Telling a lost connection to the store apart from its answers and from wsd's own faults.</summary>
public static class StorageFaults
{
    /// <summary>
    /// Whether <paramref name="e"/> is, or was caused by, a connection that failed (refused, reset,
    /// cut mid-body): worth another attempt, unlike an answer the service gave.
    /// </summary>
    public static bool IsConnectionFault(Exception e)
    {
        for (Exception? at = e; at is not null; at = at.InnerException)
        {
            if (at is HttpRequestException or IOException)
                return true;
        }
        return false;
    }
}
