using System.Net;
using System.Text.RegularExpressions;
using Wsd.Errors;

namespace Wsd.Workspaces.InWorkspace;

/// <summary>
/// A MountNfs request checked (upstream took source and options as they came,
/// docs/compatibility.md#mount-targets-and-nfs-options-unchecked):
/// the source is <c>host:/path</c> with an IP literal or a DNS name and an absolute path without
/// "..", the options come from a list of NFS client options that cannot hurt the node, and
/// <c>nosuid,nodev</c> are always added. The kernel's nfs4 mount wants the server's address as
/// <c>addr=</c>, which mount.nfs would otherwise look up: the daemon resolves it.
/// </summary>
public static partial class NfsMountRequest
{
    static readonly HashSet<string> Flags = ["hard", "soft", "ro", "rw", "noatime", "nodiratime", "relatime", "noexec", "nosuid", "nodev", "noac", "nocto", "sharecache", "nosharecache", "resvport", "noresvport"];
    static readonly Dictionary<string, Regex> Values = new()
    {
        ["vers"] = Version(), ["nfsvers"] = Version(), ["minorversion"] = Number(),
        ["proto"] = new("^(tcp|tcp6|rdma|rdma6)$"), ["port"] = Number(), ["timeo"] = Number(), ["retrans"] = Number(),
        ["rsize"] = Number(), ["wsize"] = Number(), ["acregmin"] = Number(), ["acregmax"] = Number(), ["acdirmin"] = Number(),
        ["acdirmax"] = Number(), ["actimeo"] = Number(), ["nconnect"] = Number(), ["lookupcache"] = new("^(all|none|pos|positive)$"),
        ["sec"] = new("^(sys|krb5|krb5i|krb5p|none)$"), ["local_lock"] = new("^(none|all|flock|posix)$"),
    };

    public sealed record Checked(string Source, string Options);

    public static async Task<Checked> CheckAsync(string source, string options, CancellationToken cancellationToken)
    {
        int colon = source.IndexOf(":/", StringComparison.Ordinal);
        if (colon <= 0 || source.Length > 1024)
            throw Invalid($"source \"{source}\" must be host:/path");
        string host = source[..colon].Trim('[', ']'), path = source[(colon + 1)..];
        if (!IPAddress.TryParse(host, out var address) && !HostName().IsMatch(host))
            throw Invalid($"source host \"{host}\" is neither an IP address nor a host name");
        if (path.Split('/').Any(part => part == "..") || path.Any(c => char.IsControl(c) || c == ',' || char.IsWhiteSpace(c)))
            throw Invalid($"source path \"{path}\" must not contain \"..\", commas, spaces or control characters");
        address ??= await ResolveAsync(host, cancellationToken);

        var accepted = new List<string> { "nosuid", "nodev" };
        foreach (var option in options.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int equals = option.IndexOf('=');
            string key = equals < 0 ? option : option[..equals];
            bool allowed = equals < 0 ? Flags.Contains(key) : Values.TryGetValue(key, out var pattern) && pattern.IsMatch(option[(equals + 1)..]);
            if (!allowed)
                throw Invalid($"mount option \"{option}\" is not allowed");
            if (key is not ("nosuid" or "nodev"))
                accepted.Add(option);
        }
        accepted.Add("addr=" + address);
        return new Checked(source, string.Join(',', accepted));
    }

    static async Task<IPAddress> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        try
        {
            var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
            return addresses.FirstOrDefault() ?? throw Invalid($"source host \"{host}\" has no address");
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw Invalid($"source host \"{host}\" cannot be resolved: {e.Message}");
        }
    }

    static WsdException Invalid(string message) => new(ErrorCode.InvalidArgument, message);

    [GeneratedRegex(@"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")]
    private static partial Regex HostName();

    [GeneratedRegex(@"^4(\.[0-2])?$")]
    private static partial Regex Version();

    [GeneratedRegex(@"^[0-9]{1,9}$")]
    private static partial Regex Number();
}
