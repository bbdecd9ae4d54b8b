using Wsd.Config;

namespace Wsd.Tests.Config;

public class DurationTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("15s", 15_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("250ms", 250)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("2h0m5s", 7_205_000)]
    public void GoDurationsParse(string text, long milliseconds)
    {
        Assert.True(Duration.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("s")]
    [InlineData("5 parsecs")]
    [InlineData("-5s")]
    [InlineData("99999999999999h")]
    public void NonsenseDoesNotParse(string text) => Assert.False(Duration.TryParse(text, out _));

    [Theory]
    [InlineData("15s")]
    [InlineData("1m30s")]
    [InlineData("250ms")]
    [InlineData("1h")]
    [InlineData("2h0m5s")]
    public void FormatRoundTrips(string text)
    {
        Duration.TryParse(text, out var value);

        Assert.True(Duration.TryParse(Duration.Format(value), out var again));
        Assert.Equal(value, again);
    }
}
