using System.Text.Json;
using SelfAttention.Cli.Tests.Helpers;

namespace SelfAttention.Cli.Tests.Commands;

/// <summary>
/// <c>embed</c> on the default all-MiniLM-L6-v2 (beside the tool): tokens, the similarity matrix, JSON in input order
/// with unit vectors, --input, and bad input (no sentence, an empty one, a missing or broken model, a missing file),
/// each one line and exit 2.
/// </summary>
public class EmbedCommandTests
{
    [Fact]
    public void SentencesGiveTheirTokensAndTheirSimilarities()
    {
        var result = Tool.Run("embed", "A man is playing a guitar.", "Someone plays the guitar.", "The stock market fell sharply today.");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("model all-MiniLM-L6-v2: 384 dimensions, 6 layers", result.Output);
        Assert.Contains("9 tokens: [CLS] a man is playing a guitar . [SEP]", result.Output);
        Assert.Contains("cosine similarity:", result.Output);
        string[] rows = result.Output.Split('\n').Where(l => l.StartsWith('[') && l.Contains("1.000", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, rows.Length);
        double[] first = Numbers(rows[0]);
        Assert.Equal(1.0, first[0]);
        Assert.True(first[1] > 0.6 && first[2] < 0.2, rows[0]);
    }

    [Fact]
    public void JsonHoldsUnitEmbeddingsInInputOrder()
    {
        var result = Tool.Run("embed", "--json", "Hello world!", "Hello world!", "Something else entirely");
        Assert.True(result.ExitCode == 0, result.ToString());
        using JsonDocument json = JsonDocument.Parse(result.Output);
        Assert.Equal("all-MiniLM-L6-v2", json.RootElement.GetProperty("model").GetString());
        Assert.Equal(384, json.RootElement.GetProperty("dim").GetInt32());
        float[][] e = [.. json.RootElement.GetProperty("embeddings").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray())];
        Assert.Equal(3, e.Length);
        Assert.All(e, row => Assert.InRange(Math.Sqrt(row.Sum(v => (double)v * v)), 0.99999, 1.00001));
        Assert.Equal(e[0], e[1]);
        Assert.NotEqual(e[0], e[2]);
    }

    [Fact]
    public void InputFileIsOneSentencePerLine()
    {
        using var folder = new TempFolder();
        string path = folder.File("s.txt");
        File.WriteAllText(path, "first sentence\n\n  \nsecond sentence\n");
        var fromFile = Tool.Run("embed", "--json", "--input", path);
        var fromArguments = Tool.Run("embed", "--json", "first sentence", "second sentence");
        Assert.True(fromFile.ExitCode == 0, fromFile.ToString());
        Assert.Equal(fromArguments.Output, fromFile.Output);
        Assert.Equal(["s.txt"], folder.Files());
    }

    [Fact]
    public void TwoThreadsGiveTheSameEmbeddings() =>
        Assert.Equal(Tool.Run("embed", "--json", "a b c", "d").Output, Tool.Run("embed", "--json", "--threads", "2", "a b c", "d").Output);

    [Fact]
    public void BadInputIsOneLineAndExitTwo()
    {
        using var folder = new TempFolder();
        File.WriteAllBytes(folder.File("broken.onnx"), [1, 2, 3, 4, 5]);
        File.WriteAllText(folder.File("vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n");
        File.WriteAllBytes(folder.File("latin1.txt"), [0x63, 0x61, 0x66, 0xE9, 0x0A]);
        Tool.AssertUsageError(Tool.Run("embed"), "at least one sentence");
        Tool.AssertUsageError(Tool.Run("embed", "fine", ""), "sentence 2 is empty");
        Tool.AssertUsageError(Tool.Run("embed", "--model", folder.File("missing.onnx"), "a"), "no such file or folder");
        Tool.AssertUsageError(Tool.Run("embed", "--model", folder.File("broken.onnx"), "a"), "broken.onnx", "not an ONNX model");
        Tool.AssertUsageError(Tool.Run("embed", "--input", folder.File("none.txt")), "no such file");
        Tool.AssertUsageError(Tool.Run("embed", "--input", folder.File("latin1.txt")), "not UTF-8");
        Tool.AssertUsageError(Tool.Run("embed", "--input", folder.File("vocab.txt"), "also an argument"), "not both");
        Tool.AssertUsageError(Tool.Run("embed", "--jsn", "a"), "unknown option --jsn", "did you mean --json");
    }

    [Fact]
    public void ASentenceStartingWithADashGoesAfterTheSeparator()
    {
        var result = Tool.Run("embed", "--", "-5 degrees outside");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("[CLS] - 5 degrees outside [SEP]", result.Output);
    }

    private static double[] Numbers(string row) =>
        [.. row.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(t => double.Parse(t, System.Globalization.CultureInfo.InvariantCulture))];
}
