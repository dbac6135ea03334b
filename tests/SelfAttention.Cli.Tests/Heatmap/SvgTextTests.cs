using SelfAttention.Cli.Heatmap;
using Xunit;

namespace SelfAttention.Cli.Tests.Heatmap;

public sealed class SvgTextTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("<&>\"'", "&lt;&amp;&gt;&quot;&apos;")]
    [InlineData("café 日本 😀", "café 日本 😀")]
    [InlineData("a\nb\tc\u0000", "a␊b␉c␀")]
    [InlineData("\u007f", "␡")]
    [InlineData("\uffff", "\ufffd")]
    public void Escape_MakesXmlCharacterData(string text, string expected) => Assert.Equal(expected, SvgText.Escape(text));

    [Fact]
    public void Escape_ReplacesLoneSurrogatesAndKeepsPairs()
    {
        // Not [InlineData]: lone surrogates do not survive the trip from test discovery to the test.
        Assert.Equal("x\ufffdy", SvgText.Escape("x\ud800y"));
        Assert.Equal("\ufffd", SvgText.Escape("\udc00"));
        Assert.Equal("a\ufffd", SvgText.Escape("a\ud83d"));
        Assert.Equal("\ufffd\ufffd", SvgText.Escape("\ude00\ud83d"));
        Assert.Equal("\ud83d\ude00<", SvgText.Escape("\ud83d\ude00<").Replace("&lt;", "<", StringComparison.Ordinal));
    }

    [Fact]
    public void Escape_ReturnsTheSameStringWhenNothingChanges()
    {
        string text = "nothing to escape";
        Assert.Same(text, SvgText.Escape(text));
    }

    [Theory]
    [InlineData(12.0, "12")]
    [InlineData(12.5, "12.5")]
    [InlineData(1.0 / 3, "0.33")]
    [InlineData(-0.001, "0")]
    [InlineData(0.005, "0.01")]
    public void Px_IsShortAndInvariant(double value, string expected) =>
        Assert.Equal(expected, SvgText.Px(value).ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Theory]
    [InlineData(0.41234f, "0.41")]
    [InlineData(-0.25f, "-0.25")]
    [InlineData(1f, "1.00")]
    [InlineData(-0.001f, "0.00")]
    [InlineData(12.345f, "12.3")]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.NegativeInfinity, "-∞")]
    public void CellValue_IsCompact(float value, string expected) => Assert.Equal(expected, SvgText.CellValue(value));

    [Fact]
    public void Shorten_CutsWholeCodePoints()
    {
        Assert.Equal("short", SvgText.Shorten("short"));
        Assert.Equal("0123456789abcdef", SvgText.Shorten("0123456789abcdef"));
        Assert.Equal("0123456789abcde…", SvgText.Shorten("0123456789abcdefg"));
        Assert.Equal(string.Concat(Enumerable.Repeat("😀", 15)) + "…", SvgText.Shorten(string.Concat(Enumerable.Repeat("😀", 20))));
    }

    [Fact]
    public void EstimateWidth_CountsWideCharactersAsOneEm()
    {
        Assert.Equal(0, SvgText.EstimateWidth("", 10));
        Assert.Equal(20, SvgText.EstimateWidth("日本", 10), 6);
        Assert.Equal(12, SvgText.EstimateWidth("ab", 10), 6);
    }
}
