using System.Text;
using Wsd.Archive;

namespace Wsd.Tests.Archive;

public class TarNumbersTests
{
    [Theory]
    [InlineData("0000644\0", 420L)]
    [InlineData("   644 \0", 420L)]
    [InlineData("\0\0\0\0\0\0\0\0", 0L)]
    [InlineData("77777777777\0", 8589934591L)]
    public void OctalFieldsParse(string field, long value)
    {
        Assert.True(TarNumbers.TryParse(Encoding.ASCII.GetBytes(field), out long parsed));
        Assert.Equal(value, parsed);
    }

    [Theory]
    [InlineData("0000844\0")]
    [InlineData("12x4\0\0\0\0")]
    [InlineData("0644 1\0\0")]
    public void NonOctalIsRefused(string field) => Assert.False(TarNumbers.TryParse(Encoding.ASCII.GetBytes(field), out _));

    [Fact]
    public void LargeValuesUseBase256BothWays()
    {
        var field = new byte[12];
        TarNumbers.Write(field, 1L << 40);

        Assert.Equal(0x80, field[0]);
        Assert.True(TarNumbers.TryParse(field, out long value));
        Assert.Equal(1L << 40, value);
    }

    [Fact]
    public void OctalIsUsedWhileItFits()
    {
        var field = new byte[8];
        TarNumbers.Write(field, 0x1FFFFF);

        Assert.Equal("7777777\0", Encoding.ASCII.GetString(field));
    }
}
