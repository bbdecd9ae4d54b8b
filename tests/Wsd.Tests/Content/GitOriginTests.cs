using Wsd.Content.Git;

namespace Wsd.Tests.Content;

/// <summary>The origin a credential is bound to, and the one an askpass prompt of git's asks for.</summary>
public class GitOriginTests
{
    [Theory]
    [InlineData("https://github.com/org/repo.git", "https://github.com:443")]
    [InlineData("https://GitHub.com:443/org/repo", "https://github.com:443")]
    [InlineData("http://carol:pw@127.0.0.1:8080/git/app.git", "http://127.0.0.1:8080")]
    [InlineData("file:///srv/origin.git", null)]
    [InlineData("/srv/origin.git", null)]
    [InlineData("git@github.com:org/repo.git", null)]
    [InlineData("ssh://git@github.com/org/repo.git", null)]
    public void ARemoteHasAnOriginOnlyOverHttp(string remote, string? origin) => Assert.Equal(origin, GitOrigin.Of(remote));

    [Theory]
    [InlineData("Username for 'https://github.com': ", "https://github.com:443")]
    [InlineData("Password for 'https://carol@github.com': ", "https://github.com:443")]
    [InlineData("Password for 'http://carol@127.0.0.1:8080/git/app.git': ", "http://127.0.0.1:8080")]
    [InlineData("Password for 'https://github.com.evil.example': ", "https://github.com.evil.example:443")]
    [InlineData("Enter passphrase for key '/root/.ssh/id_rsa': ", null)]
    [InlineData("no quotes at all", null)]
    public void APromptNamesTheOriginGitAsksFor(string prompt, string? origin) => Assert.Equal(origin, GitOrigin.OfPrompt(prompt));
}
