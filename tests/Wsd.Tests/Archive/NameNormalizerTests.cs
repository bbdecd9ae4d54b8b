using System.Text;
using Wsd.Archive;

namespace Wsd.Tests.Archive;

public class NameNormalizerTests
{
    static string Normalize(string name)
    {
        var output = new byte[8192];
        int length = NameNormalizer.Normalize(Encoding.UTF8.GetBytes(name), output, out _);
        return Encoding.UTF8.GetString(output, 0, length);
    }

    [Theory]
    [InlineData("a/b/c", "a/b/c")]
    [InlineData("./a/b/", "a/b")]
    [InlineData("a//b/./c", "a/b/c")]
    [InlineData("./", "")]
    [InlineData(".", "")]
    [InlineData("..a/b..", "..a/b..")]
    public void NamesAreCleanedLikeTarCleansThem(string name, string expected) => Assert.Equal(expected, Normalize(name));

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("..")]
    [InlineData("a/../b")]
    [InlineData("a/..")]
    public void EscapesAreRefused(string name) => Assert.Throws<ArchiveException>(() => Normalize(name));
}
