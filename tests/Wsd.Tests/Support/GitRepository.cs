namespace Wsd.Tests.Support;

/// <summary>A real git repository made by the test with the git executable, served over file://.</summary>
public sealed class GitRepository
{
    public required string Path { get; init; }
    public string Url => "file://" + Path;

    /// <summary>A bare repository with a main branch of two commits and a second branch "feature".</summary>
    public static GitRepository CreateBare(TempDirectory dir, string name = "origin.git")
    {
        string work = dir.Combine(name + "-work");
        Directory.CreateDirectory(work);
        Git(work, "init", "-q", "-b", "main");
        File.WriteAllText(System.IO.Path.Combine(work, "README.md"), "# hello\n");
        Git(work, "add", ".");
        Git(work, "commit", "-q", "-m", "first");
        Directory.CreateDirectory(System.IO.Path.Combine(work, "src"));
        File.WriteAllText(System.IO.Path.Combine(work, "src", "main.c"), "int main(void) { return 0; }\n");
        Git(work, "add", ".");
        Git(work, "commit", "-q", "-m", "second");
        Git(work, "checkout", "-q", "-b", "feature");
        File.WriteAllText(System.IO.Path.Combine(work, "feature.txt"), "feature\n");
        Git(work, "add", ".");
        Git(work, "commit", "-q", "-m", "feature work");
        Git(work, "checkout", "-q", "main");
        string bare = dir.Combine(name);
        Git(dir.Path, "clone", "-q", "--bare", work, bare);
        Tools.Ok("chmod", "/", "-R", "a+rX", bare);
        // The daemon clones as the workspace user, and git refuses a local repository owned by
        // someone else ("dubious ownership"); remote repositories in production are not local.
        if (Wsd.Interop.Libc.GetEuid() == 0)
            Tools.Ok("chown", "/", "-R", "133332:133332", bare);
        return new GitRepository { Path = bare };
    }

    public string Head(string branch = "main") => Git(Path, "-c", "safe.directory=*", "rev-parse", branch).Trim();

    public static string Git(string workingDirectory, params string[] args) =>
        Tools.Ok("git", workingDirectory, ["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", .. args]);
}
