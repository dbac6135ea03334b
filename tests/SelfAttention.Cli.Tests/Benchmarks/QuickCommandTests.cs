using SelfAttention.Cli.Tests.Helpers;
using SelfAttention.Comparison.Implementations;
using SelfAttention.Comparison.Quick;

namespace SelfAttention.Cli.Tests.Benchmarks;

/// <summary>
/// The benchmarks exe's <c>quick</c> command line, on the same layer as the tool: every bad value is exit 2 and one
/// line, and <c>--threads</c> and <c>--causal</c> read as they do in the tool. (The table itself runs in CI, in the
/// exe: scripts/bench-smoke-test.sh.)
/// </summary>
public class QuickCommandTests
{
    [Theory]
    [InlineData("--seconds", "0")]
    [InlineData("--seconds", "-0")]
    [InlineData("--seconds", "-1")]
    [InlineData("--seconds", "NaN")]
    [InlineData("--seconds", "Infinity")]
    [InlineData("--seconds", "1e300")]
    [InlineData("--seconds", "86401")]
    [InlineData("--warmup", "-1")]
    [InlineData("--warmup", "NaN")]
    [InlineData("--warmup", "1e9")]
    [InlineData("--threads", "0")]
    [InlineData("--threads", "-2")]
    [InlineData("--threads", "1025")]
    [InlineData("--threads", "99999999999")]
    [InlineData("--shapes", "huge")]
    [InlineData("--shapes", ",")]
    [InlineData("--impl", "nope")]
    public void EveryBadValueIsAUsageError(string option, string value) =>
        Tool.AssertUsageError(Run("quick", option, value), "quick:", option);

    [Theory]
    [InlineData("--threads")]
    [InlineData("--causal")]
    [InlineData("--no-peak")]
    public void AnOptionGivenTwiceIsAUsageError(string option)
    {
        string[] once = option == "--threads" ? [option, "2"] : [option];
        Tool.AssertUsageError(Run(["quick", .. once, .. once]), "quick:", $"{option} is given more than once");
    }

    [Fact]
    public void HelpListsEveryOptionWithExamplesAndExitCodes()
    {
        var result = Run("quick", "--help");
        Assert.Equal(0, result.ExitCode);
        foreach (string option in new[] { "--shapes", "--impl", "--threads", "--causal", "--seconds", "--warmup", "--no-peak", "--help" })
        {
            Assert.Contains(option, result.Output);
        }

        Assert.Contains("Exit codes:", result.Output);
        Assert.Contains("Examples:\n  quick ", result.Output);
        string threads = result.Output[result.Output.IndexOf("  --threads", StringComparison.Ordinal)..];
        Assert.Contains("[default: 1]", threads[..threads.IndexOf("\n  -", 2, StringComparison.Ordinal)]);
    }

    [Fact]
    public void ShapesAndImplementationsComplete()
    {
        Assert.Contains("bert", Run("[suggest:16]", "quick --shapes b").Output.Split('\n'));
        Assert.Contains("auto,Tiled", Run("[suggest:19]", "quick --impl auto,t").Output.Split('\n'));
    }

    // The quick command under the shared layer, as the exe hosts it (with the library's own implementation list).
    private static CliResult Run(params string[] args)
    {
        var app = new CommandLineApp("bench", "the quick command under test", "0.0.0");
        app.Add(QuickCommand.Create(ImplementationRegistry.Default));
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        int code = app.Run(args, output, error);
        return new CliResult(code, output.ToString(), error.ToString());
    }
}
