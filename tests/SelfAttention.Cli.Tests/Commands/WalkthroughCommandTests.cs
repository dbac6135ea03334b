using System.Text.Json;
using SelfAttention.Cli.Tests.Helpers;

namespace SelfAttention.Cli.Tests.Commands;

/// <summary>
/// <c>walkthrough</c>: every example runs, the text and JSON forms carry the same steps, and the numbers of example 1
/// agree with the textbook steps recomputed here in double precision (tolerance 1e-6 absolute: float32 results of
/// values of order 1).
/// </summary>
public class WalkthroughCommandTests
{
    private const double Tolerance = 1e-6;

    private static readonly double[,] BearsEmbeddings =
    {
        { 0.5, 0.8, 0.2, 0.6 },
        { 0.7, 0.1, 0.9, 0.3 },
        { 0.4, 0.6, 0.3, 0.8 },
    };

    [Fact]
    public void AllExamplesRunInText()
    {
        var result = Tool.Run("walkthrough");
        Assert.True(result.ExitCode == 0, result.ToString());
        for (int n = 1; n <= 4; n++)
        {
            Assert.Contains($"Example {n}:", result.Output);
        }

        Assert.Equal("", result.Error);
    }

    [Theory]
    [InlineData(1, "\"I love bears\"", "Scores X·Xᵀ (unscaled)")]
    [InlineData(2, "\"Dream big and work for it\"", "÷ sum")]
    [InlineData(3, "\"Write a poem\"", "%")]
    [InlineData(4, "\"Write a poem\"", "head 1 weights")]
    public void OneExampleRunsAlone(int number, string sentence, string marker)
    {
        var result = Tool.Run("walkthrough", "--example", number.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"Example {number}:", result.Output);
        Assert.Contains(sentence, result.Output);
        Assert.Contains(marker, result.Output);
        Assert.DoesNotContain($"Example {number % 4 + 1}:", result.Output);
    }

    [Fact]
    public void TextMatricesAreAlignedWithTokenLabels()
    {
        var lines = Tool.Run("walkthrough", "--example", "1").Output.Split('\n');
        int header = Array.FindIndex(lines, l => l.Trim() == "scores") + 1;
        Assert.Equal(new[] { "I", "love", "bears" }, lines[header].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        string[] rows = lines[(header + 1)..(header + 4)];
        Assert.Equal(new[] { "I", "love", "bears" }, rows.Select(r => r.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]));
        // Right-aligned columns: every row (and the header) ends at the same column.
        Assert.Single(rows.Append(lines[header]).Select(r => r.TrimEnd().Length).Distinct());
    }

    [Fact]
    public void JsonHasTheSameStepsAsText()
    {
        var text = Tool.Run("walkthrough");
        using var json = JsonDocument.Parse(Tool.Run("walkthrough", "--json").Output);
        var examples = json.RootElement.GetProperty("examples");
        Assert.Equal(4, examples.GetArrayLength());
        foreach (var example in examples.EnumerateArray())
        {
            Assert.Contains($"Example {example.GetProperty("number").GetInt32()}: {example.GetProperty("title").GetString()}", text.Output);
            int step = 1;
            foreach (var s in example.GetProperty("steps").EnumerateArray())
            {
                Assert.Contains($"Step {step++}. {s.GetProperty("title").GetString()}", text.Output);
                foreach (var matrix in s.GetProperty("matrices").EnumerateArray())
                {
                    int rows = matrix.GetProperty("rows").GetArrayLength(), columns = matrix.GetProperty("columns").GetArrayLength();
                    var values = matrix.GetProperty("values");
                    Assert.Equal(rows, values.GetArrayLength());
                    Assert.All(values.EnumerateArray(), row => Assert.Equal(columns, row.GetArrayLength()));
                }
            }
        }
    }

    [Fact]
    public void AttentionWeightRowsSumToOneInEveryExample()
    {
        using var json = JsonDocument.Parse(Tool.Run("walkthrough", "--json").Output);
        int checkedMatrices = 0;
        foreach (var matrix in AllMatrices(json).Where(m => m.GetProperty("isAttentionWeights").GetBoolean()))
        {
            foreach (var row in matrix.GetProperty("values").EnumerateArray())
            {
                Assert.Equal(1.0, row.EnumerateArray().Sum(v => v.GetDouble()), 5);
            }

            checkedMatrices++;
        }

        Assert.True(checkedMatrices >= 6, $"only {checkedMatrices} weight matrices");
    }

    [Fact]
    public void ExampleOneMatchesTheTextbookStepsRecomputedInDouble()
    {
        using var json = JsonDocument.Parse(Tool.Run("walkthrough", "--example", "1", "--json").Output);
        var steps = json.RootElement.GetProperty("examples")[0].GetProperty("steps").EnumerateArray().ToArray();
        foreach (var (scale, first) in new[] { (1.0, 1), (0.5, 4) })
        {
            double[,] scores = new double[3, 3], weights = new double[3, 3], output = new double[3, 4];
            for (int i = 0; i < 3; i++)
            {
                for (int j = 0; j < 3; j++)
                {
                    for (int c = 0; c < 4; c++) scores[i, j] += BearsEmbeddings[i, c] * BearsEmbeddings[j, c] * scale;
                }

                double max = Math.Max(scores[i, 0], Math.Max(scores[i, 1], scores[i, 2])), sum = 0;
                for (int j = 0; j < 3; j++) sum += weights[i, j] = Math.Exp(scores[i, j] - max);
                for (int j = 0; j < 3; j++) weights[i, j] /= sum;
                for (int c = 0; c < 4; c++)
                {
                    for (int j = 0; j < 3; j++) output[i, c] += weights[i, j] * BearsEmbeddings[j, c];
                }
            }

            AssertMatrix(scores, steps[first]);
            AssertMatrix(weights, steps[first + 1]);
            AssertMatrix(output, steps[first + 2]);
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("5")]
    [InlineData("one")]
    public void ExampleNumberOutOfRangeIsAUsageError(string number) =>
        Tool.AssertUsageError(Tool.Run("walkthrough", "--example", number), "--example", "1 to 4", number);

    [Fact]
    public void MissingExampleNumberIsAUsageError() =>
        Tool.AssertUsageError(Tool.Run("walkthrough", "--example"), "--example needs a value");

    [Fact]
    public void StrayArgumentIsAUsageError() =>
        Tool.AssertUsageError(Tool.Run("walkthrough", "bears"), "unexpected argument 'bears'");

    [Fact]
    public void EqualsFormIsAccepted() =>
        Assert.Equal(Tool.Run("walkthrough", "--example", "2").Output, Tool.Run("walkthrough", "--example=2").Output);

    private static IEnumerable<JsonElement> AllMatrices(JsonDocument json) =>
        json.RootElement.GetProperty("examples").EnumerateArray()
            .SelectMany(e => e.GetProperty("steps").EnumerateArray())
            .SelectMany(s => s.GetProperty("matrices").EnumerateArray());

    private static void AssertMatrix(double[,] expected, JsonElement step)
    {
        var values = step.GetProperty("matrices")[0].GetProperty("values");
        for (int i = 0; i < expected.GetLength(0); i++)
        {
            for (int j = 0; j < expected.GetLength(1); j++)
            {
                double actual = values[i][j].GetDouble();
                Assert.True(Math.Abs(actual - expected[i, j]) <= Tolerance,
                    $"{step.GetProperty("title").GetString()}[{i}, {j}]: expected {expected[i, j]}, actual {actual}");
            }
        }
    }
}
