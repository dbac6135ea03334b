using SelfAttention.Cli.Tests.Helpers;

namespace SelfAttention.Cli.Tests.Commands;

/// <summary><c>bench</c>: the quick table runs from the tool (smallest budget: the toy shape, no warm-up, no controls).</summary>
public class BenchCommandTests
{
    // In a process of its own: the bytes-per-call column counts every thread of the process, and in this one xunit's
    // threads and the other tests allocate (CI once read 325 and, with the tests kept apart, 1 B/call).
    [Fact]
    public void QuickTableRunsOnTheToyShape()
    {
        var result = Tool.RunProcess("bench", "--shapes", "toy", "--impl", "auto,tensorprimitives", "--seconds", "0.5", "--warmup", "0", "--no-peak");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("validation against Naive", result.Output);
        Assert.Contains("Toy  B=1 H=1 nq=3 nk=3 d=4", result.Output);
        string[] autoRow = result.Output.Split('\n').Single(l => l.StartsWith("Auto ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(double.Parse(autoRow[^1], System.Globalization.CultureInfo.InvariantCulture) < 1e-5, string.Join(' ', autoRow)); // max|Δ| from the oracle
        Assert.Equal("0", autoRow[^2]); // bytes allocated per call
    }

    [Theory]
    [InlineData("--shapes", "huge", "unknown shape 'huge'")]
    [InlineData("--threads", "x", "--threads")]
    public void BadOptionsAreUsageErrors(string option, string value, string message) =>
        Tool.AssertUsageError(Tool.Run("bench", option, value), "bench:", message);

    [Fact]
    public void HelpPutsEveryOptionOnItsOwnLine()
    {
        var result = Tool.Run("bench", "--help");
        Assert.Equal(0, result.ExitCode);
        string[] lines = result.Output.Split('\n');
        Assert.Contains(lines, l => l.TrimStart().StartsWith("--no-peak", StringComparison.Ordinal) && !l.Contains("--help", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.TrimStart().StartsWith("-h, --help", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1")]
    [InlineData("1024")]
    public void ThreadCountsInRangeAreAccepted(string threads) =>
        Assert.Equal(threads == "-1" ? -1 : int.Parse(threads, System.Globalization.CultureInfo.InvariantCulture),
                     SelfAttention.Comparison.Quick.QuickOptions.Parse(["--threads", threads]).Threads);
}
