using System.Text;

namespace Wsd.Interop;

/// <summary>Strings as the C calls take them: UTF-8, NUL-terminated.</summary>
public static class CStrings
{
    public static byte[] Of(string value) => Encoding.UTF8.GetBytes(value + "\0");
}
