using System.Globalization;
using System.Net;

namespace Wsd.Config;

/// <summary>Parses the <c>host:port</c> listener addresses of the configuration.</summary>
public static class ListenAddress
{
    public static bool TryParse(string text, out IPEndPoint endPoint, out string error)
    {
        endPoint = null!;
        int colon = text.LastIndexOf(':');
        if (colon < 0)
        {
            error = $"'{text}' is not host:port";
            return false;
        }
        var host = text[..colon];
        var portText = text[(colon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            error = $"'{text}' has no port between 1 and 65535";
            return false;
        }

        IPAddress? address;
        if (host.Length == 0)
            address = IPAddress.Any;
        else if (host == "localhost")
            address = IPAddress.Loopback;
        else if (host.StartsWith('[') && host.EndsWith(']'))
            IPAddress.TryParse(host.AsSpan(1, host.Length - 2), out address);
        else
            IPAddress.TryParse(host, out address);
        if (address is null)
        {
            error = $"'{text}': host must be an IP address, 'localhost' or empty (all interfaces)";
            return false;
        }
        endPoint = new IPEndPoint(address, port);
        error = "";
        return true;
    }
}
