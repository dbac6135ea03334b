using SelfAttention.Cli.Tests.Helpers;

namespace SelfAttention.Cli.Tests.Commands;

/// <summary>
/// Runs <c>bench</c> with no other test class in flight. The tool runs in this process, and the quick table's bytes-per-call
/// column counts allocations on every thread (<c>GC.GetTotalAllocatedBytes</c>), so a test running beside it would
/// show up there: a scalar CI run once read 325 B/call for that reason.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BenchCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "bench (not parallel)";
}

/// <summary><c>bench</c>: the quick table runs from the tool (smallest budget: the toy shape, no warm-up, no controls).</summary>
[Collection(BenchCollection.Name)]
public class BenchCommandTests
{
    [Fact]
    public void QuickTableRunsOnTheToyShape()
    {
        var result = Tool.Run("bench", "--shapes", "toy", "--impl", "auto,tensorprimitives", "--seconds", "0.5", "--warmup", "0", "--no-peak");
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
}
