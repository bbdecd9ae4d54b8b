using Wsd.Content.Git;

namespace Wsd.Cli;

/// <summary>
/// When git needs credentials it runs $GIT_ASKPASS with a prompt. The daemon points that at its own
/// binary with <see cref="AskPassEnvironment.Marker"/> set, so the answer comes from the child's environment: the
/// secret is never in argv, a URL or a file, and no shell is needed (docs/decisions.md#content-and-git).
/// It answers only a prompt for the origin the credentials were given for
/// (<see cref="AskPassEnvironment.Origin"/>); any other prompt fails, so git sends nothing at all there.
/// </summary>
public static class GitAskPass
{
    public static bool IsRequested => Environment.GetEnvironmentVariable(AskPassEnvironment.Marker) == "1";

    public static int Answer(string[] args)
    {
        string prompt = args.Length > 0 ? args[0] : "";
        string? origin = Environment.GetEnvironmentVariable(AskPassEnvironment.Origin);
        if (origin is null || GitOrigin.OfPrompt(prompt) != origin)
        {
            Console.Error.WriteLine($"wsd: no credentials for {GitOrigin.OfPrompt(prompt) ?? "this prompt"}; they are only for {origin ?? "no origin"}");
            return 1;
        }
        string variable = prompt.StartsWith("Username", StringComparison.OrdinalIgnoreCase) ? AskPassEnvironment.User : AskPassEnvironment.Password;
        Console.Out.Write(Environment.GetEnvironmentVariable(variable) ?? "");
        Console.Out.Write('\n');
        return 0;
    }
}
