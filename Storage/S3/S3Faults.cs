using System.Net;
using System.Security.Authentication;
using Amazon.Runtime;
using Amazon.S3;
using Wsd.Errors;

namespace Wsd.Storage.S3;

/// <summary>
/// What a failed request to the service becomes: the service's own answer, or the way to it
/// failing (refused, cut, a certificate not trusted), each as a <see cref="WsdException"/> that says
/// which object and what an operator can do. The connection's exception stays inside, so callers
/// that retry a lost connection still recognise one (<see cref="StorageFaults.IsConnectionFault"/>).
/// </summary>
static class S3Faults
{
    /// <summary>The service answered with an error, or could not be reached: never a fault of wsd's own.</summary>
    public static bool IsServiceFault(Exception e) => e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException;

    public static WsdException Failure(string what, ObjectLocation location, Exception e) => e switch
    {
        WsdException known => known,
        AmazonS3Exception { StatusCode: HttpStatusCode.NotFound } answer => new(ErrorCode.NotFound, $"cannot {what} {location.Qualified}: {Answer(answer)}", e),
        AmazonS3Exception { StatusCode: HttpStatusCode.PreconditionFailed } =>
            new(ErrorCode.Unavailable, $"cannot {what} {location.Qualified}: it was replaced by a newer version while it was read; try again", e),
        AmazonS3Exception answer => new(ErrorCode.Unavailable, $"cannot {what} {location.Qualified}: {Answer(answer)}", e),
        _ when Find<AuthenticationException>(e) is { } tls => new(ErrorCode.Unavailable,
            $"cannot {what} {location.Qualified}: the storage service's TLS certificate is not trusted ({tls.Message}); " +
            "for a service with a private CA, set content.storage.s3.caFile to its certificate", e),
        _ => new(ErrorCode.Unavailable, $"cannot {what} {location.Qualified}: the storage service cannot be reached ({Innermost(e).Message})", e),
    };

    // The service's own words: a message alone may be empty (Ceph RGW sends none for NoSuchBucket).
    static string Answer(AmazonS3Exception e) => $"{e.ErrorCode ?? e.StatusCode.ToString()} {e.Message}".TrimEnd();

    static T? Find<T>(Exception? e) where T : Exception
    {
        for (; e is not null; e = e.InnerException)
            if (e is T found)
                return found;
        return null;
    }

    static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
            e = e.InnerException;
        return e;
    }
}
