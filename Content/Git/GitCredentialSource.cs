using Wsd.Errors;

namespace Wsd.Content.Git;

/// <summary>
/// Credentials for a git initializer (docs/compatibility.md#git-initializer): basic auth as given, or a
/// one-time secret fetched once from its URL (up to 20 attempts, 1 s apart) and then reused for every git
/// command; either way bound to the origin of the remote they were given for.
/// </summary>
public sealed class GitCredentialSource(GitSpec spec, HttpClient http)
{
    GitCredentials? _cached;

    public async Task<GitCredentials?> GetAsync(CancellationToken cancellationToken)
    {
        switch (spec.Auth)
        {
            case GitAuth.None:
                return null;
            case GitAuth.Basic:
                return new GitCredentials(spec.AuthUser, spec.AuthPassword, GitOrigin.Of(spec.RemoteUri));
        }
        if (_cached is not null)
            return _cached;

        Exception? last = null;
        for (int attempt = 0; attempt < 20; attempt++)
        {
            if (attempt > 0)
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            try
            {
                using var response = await http.GetAsync(spec.AuthOtsUrl, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    last = new HttpRequestException($"HTTP {(int)response.StatusCode}");
                    continue;
                }
                string body = await response.Content.ReadAsStringAsync(cancellationToken);
                int colon = body.IndexOf(':');
                string? origin = GitOrigin.Of(spec.RemoteUri);
                _cached = colon < 0 ? new GitCredentials("", body, origin) : new GitCredentials(body[..colon], body[(colon + 1)..], origin);
                return _cached;
            }
            catch (HttpRequestException e)
            {
                last = e;
            }
        }
        // The OTS URL is a secret too: it is not repeated in the message.
        throw new WsdException(ErrorCode.InvalidArgument, $"cannot get OTS: {last?.Message}");
    }
}
