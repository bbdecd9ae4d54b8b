using Wsd.Content.Git;

namespace Wsd.Cli;

/// <summary>
/// When git needs credentials it runs $GIT_ASKPASS with a prompt. The daemon points that at its own
/// binary with <see cref="Marker"/> set, so the answer comes from the child's environment: the
/// secret is never in argv, a URL or a file, and no shell is needed (SPEC §4). It answers only a
/// prompt for the origin the credentials were given for (<see cref="OriginVariable"/>); any other
/// prompt fails, so git sends nothing at all there.
/// </summary>
public static class GitAskPass
{
    public const string Marker = "WSD_GIT_ASKPASS";
    public const string UserVariable = "WSD_GIT_USER";
    public const string PasswordVariable = "WSD_GIT_PASSWORD";
    public const string OriginVariable = "WSD_GIT_ORIGIN";

    public static bool IsRequested => Environment.GetEnvironmentVariable(Marker) == "1";

    public static int Answer(string[] args)
    {
        string prompt = args.Length > 0 ? args[0] : "";
        string? origin = Environment.GetEnvironmentVariable(OriginVariable);
        if (origin is null || GitOrigin.OfPrompt(prompt) != origin)
        {
            Console.Error.WriteLine($"wsd: no credentials for {GitOrigin.OfPrompt(prompt) ?? "this prompt"}; they are only for {origin ?? "no origin"}");
            return 1;
        }
        string variable = prompt.StartsWith("Username", StringComparison.OrdinalIgnoreCase) ? UserVariable : PasswordVariable;
        Console.Out.Write(Environment.GetEnvironmentVariable(variable) ?? "");
        Console.Out.Write('\n');
        return 0;
    }
}
