using SelfAttention.Cli.CommandLine;

namespace SelfAttention.Cli.Tests.CommandLine;

/// <summary>Echoed user text: escaped to one line, bounded, cut without splitting a character or an escape.</summary>
public class CliTextTests
{
    [Theory]
    [InlineData("a\nb", "a\\nb")]
    [InlineData("a\r\nb\tc", "a\\r\\nb\\tc")]
    [InlineData("\u0000\u001b[31m", "\\u0000\\u001b[31m")]
    [InlineData("x\u2028y\u2029z", "x\\u2028y\\u2029z")]
    [InlineData("abc\u202edef", "abc\\u202edef")]
    [InlineData("caf\u00e9 \U0001F600", "caf\u00e9 \U0001F600")]
    public void EchoEscapesWhatWouldBreakOrDisguiseALine(string value, string expected) => Assert.Equal(expected, CliText.Echo(value));

    // Not an InlineData: test discovery passes attribute strings through UTF-8, which turns a lone surrogate into U+FFFD.
    [Fact]
    public void EchoEscapesALoneSurrogate() =>
        Assert.Equal("lone \\ud800 and \\udc00", CliText.Echo("lone " + (char)0xd800 + " and " + (char)0xdc00));

    [Fact]
    public void EchoKeepsTheStartAndTheEndOfALongValue()
    {
        string path = "/" + new string('d', 5000) + "/file.npy";
        string echo = CliText.Echo(path);
        Assert.True(echo.Length <= CliText.MaxEcho, echo.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.StartsWith("/ddd", echo, StringComparison.Ordinal);
        Assert.EndsWith("/file.npy", echo, StringComparison.Ordinal);
        Assert.Contains("…", echo, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(50)]
    public void CuttingNeverSplitsASurrogatePairOrAnEscape(int shift)
    {
        foreach (string unit in new[] { "\U0001F600", "\n", "\u0001" })
        {
            string value = new string('a', shift) + string.Concat(Enumerable.Repeat(unit, 400));
            string echo = CliText.Echo(value);
            Assert.True(echo.Length <= CliText.MaxEcho);
            for (int k = 0; k < echo.Length; k++)
            {
                Assert.False(char.IsHighSurrogate(echo[k]) && (k + 1 == echo.Length || !char.IsLowSurrogate(echo[k + 1])), echo);
                Assert.False(char.IsLowSurrogate(echo[k]) && (k == 0 || !char.IsHighSurrogate(echo[k - 1])), echo);
            }

            // Each side of the ellipsis is made of whole units only.
            string escaped = System.Text.RegularExpressions.Regex.Escape(unit switch { "\n" => "\\n", "\u0001" => "\\u0001", _ => unit });
            string[] halves = echo.Split('…');
            Assert.Equal(2, halves.Length);
            Assert.Matches($"^a*({escaped})*$", halves[0]);
            Assert.Matches($"^({escaped})+$", halves[1]);
        }
    }

    [Fact]
    public void OneLineBoundsAWholeMessage()
    {
        string line = CliText.OneLine("run: " + new string('x', 100_000) + "\nsecond line");
        Assert.True(line.Length <= CliText.MaxLine);
        Assert.DoesNotContain('\n', line);
        Assert.EndsWith("x\\nsecond line", line, StringComparison.Ordinal);
    }
}
