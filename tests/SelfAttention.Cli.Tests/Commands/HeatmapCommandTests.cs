using System.Xml.Linq;
using SelfAttention.Cli.Tests.Helpers;

namespace SelfAttention.Cli.Tests.Commands;

/// <summary><c>heatmap</c>: each source writes a well-formed SVG with a panel per head; bad input writes nothing.</summary>
public class HeatmapCommandTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void SentenceGivesAPanelPerHeadWithTokenLabels()
    {
        using var folder = new TempFolder();
        string path = folder.File("cat.svg");
        var result = Tool.Run("heatmap", "--sentence", "The cat sat on the mat", "--heads", "3", "--dim", "12", "--causal", "--out", path);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("3 panels, 6 × 6", result.Output);
        string[] texts = Texts(path);
        foreach (string expected in new[] { "head 0", "head 1", "head 2", "The", "cat", "mat", "causal" })
        {
            Assert.Contains(texts, t => t.Contains(expected, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void ModelDrawsTheLearnedAttentionOfALayerWithWordPieceLabels()
    {
        using var folder = new TempFolder();
        string path = folder.File("minilm.svg");
        var result = Tool.Run("heatmap", "--model", "--sentence", "The cat sat on the mat.", "--layer", "5", "--out", path);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("12 panels, 9 × 9", result.Output);
        string[] texts = Texts(path);
        foreach (string expected in new[] { "head 0", "head 11", "[CLS]", "[SEP]", "cat", "all-MiniLM-L6-v2, layer 5 of 6" })
        {
            Assert.Contains(texts, t => t.Contains(expected, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void ModelRefusesWhatItFixesItself()
    {
        using var folder = new TempFolder();
        string path = folder.File("x.svg");
        Tool.AssertUsageError(Tool.Run("heatmap", "--model", "--out", path), "--model needs --sentence");
        Tool.AssertUsageError(Tool.Run("heatmap", "--model", "--sentence", "a b", "--layer", "6", "--out", path), "--layer 6 is out of range", "0 to 5");
        Tool.AssertUsageError(Tool.Run("heatmap", "--model", "--sentence", "a b", "--causal", "--out", path), "do not apply to --model");
        Tool.AssertUsageError(Tool.Run("heatmap", "--sentence", "a b", "--layer", "1", "--out", path), "--layer applies to --model only");
        Tool.AssertUsageError(Tool.Run("heatmap", "--model", folder.File("nothing"), "--sentence", "a b", "--out", path), "no such file or folder");
        Assert.Empty(folder.Files());
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 2)]
    [InlineData(3, 1)]
    [InlineData(4, 2)]
    public void ExampleDrawsItsAttentionWeights(int number, int panels)
    {
        using var folder = new TempFolder();
        string path = folder.File("example.svg");
        var result = Tool.Run("heatmap", "--example", number.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", path);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"{panels} panel", result.Output);
        Assert.Contains(Texts(path), t => t.Contains($"Example {number}", StringComparison.Ordinal));
    }

    [Fact]
    public void NpyInputsWithLabels()
    {
        using var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("q.npy"), 1, 2, 4, 8);
        NpyFiles.WriteRandom(folder.File("k.npy"), 2, 2, 4, 8);
        string path = folder.File("w.svg");
        var result = Tool.Run("heatmap", "--query", folder.File("q.npy"), "--key", folder.File("k.npy"), "--heads", "2",
                              "--batch-index", "1", "--labels", "a,b,c,d", "--out", path);
        Assert.True(result.ExitCode == 0, result.ToString());
        string[] texts = Texts(path);
        Assert.Contains("head 1", texts);
        Assert.Contains("d", texts);
        Assert.Contains(texts, t => t.Contains("q.npy[1]", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(new string[0], "exactly one source")]
    [InlineData(new[] { "--sentence", "a b", "--example", "1" }, "exactly one source")]
    [InlineData(new[] { "--sentence", "a b", "--heads", "3", "--dim", "8" }, "--dim 8 must be a multiple of --heads 3")]
    [InlineData(new[] { "--sentence", "   " }, "no words")]
    [InlineData(new[] { "--example", "2", "--heads", "2" }, "do not apply to --example")]
    [InlineData(new[] { "--example", "2", "--seed", "2" }, "--sentence only")]
    [InlineData(new[] { "--sentence", "a b", "--values", "maybe" }, "on or off")]
    public void BadOptionsWriteNothing(string[] options, string message)
    {
        using var folder = new TempFolder();
        var result = Tool.Run(["heatmap", .. options, "--out", folder.File("h.svg")]);
        Tool.AssertUsageError(result, message);
        Assert.Empty(folder.Files());
    }

    [Fact]
    public void WrongLabelCountWritesNothing()
    {
        using var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("q.npy"), 1, 4, 8);
        var result = Tool.Run("heatmap", "--query", folder.File("q.npy"), "--key", folder.File("q.npy"), "--heads", "2",
                              "--labels", "a,b,c", "--out", folder.File("h.svg"));
        Tool.AssertUsageError(result, "--labels", "expected 4 labels, got 3");
        Assert.Equal(new[] { "q.npy" }, folder.Files());
    }

    [Fact]
    public void BatchIndexOutOfRangeWritesNothing()
    {
        using var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("q.npy"), 1, 2, 4, 8);
        var result = Tool.Run("heatmap", "--query", folder.File("q.npy"), "--key", folder.File("q.npy"), "--heads", "2",
                              "--batch-index", "2", "--out", folder.File("h.svg"));
        Tool.AssertUsageError(result, "--batch-index 2", "batch 2");
        Assert.Equal(new[] { "q.npy" }, folder.Files());
    }

    [Fact]
    public void UnwritableOutputExitsOne()
    {
        using var folder = new TempFolder();
        var result = Tool.Run("heatmap", "--example", "1", "--out", Path.Combine(folder.Path, "no-such-folder", "h.svg"));
        Tool.AssertFailure(result, 1, "no-such-folder");
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public void FourCausalHeadsOfTenTokensFitThePageWithTheirMaskHatched()
    {
        using var folder = new TempFolder();
        string path = folder.File("cat.svg");
        var result = Tool.Run("heatmap", "--sentence", "The cat sat on the mat because it was warm", "--heads", "4", "--causal", "--out", path);
        Assert.True(result.ExitCode == 0, result.ToString());

        XDocument document = XDocument.Load(path);
        Assert.InRange(double.Parse((string)document.Root!.Attribute("width")!, System.Globalization.CultureInfo.InvariantCulture), 1, 1200);
        for (int p = 0; p < 4; p++)
        {
            var cells = Heatmap.HeatmapTestData.CellRects(document, p);
            Assert.Equal(100, cells.Count);
            for (int k = 0; k < 100; k++)
            {
                bool masked = k % 10 > k / 10;
                Assert.Equal(masked, (string?)cells[k].Attribute("fill") == "url(#sa-masked)");
                Assert.Equal(masked, cells[k].Element(Svg + "title")!.Value.EndsWith(": masked", StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public void CausalArraysWithMoreKeysThanQueriesAreMaskedBottomRight()
    {
        using var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("q.npy"), 1, 3, 4);
        NpyFiles.WriteRandom(folder.File("k.npy"), 2, 6, 4);
        string path = folder.File("h.svg");
        var result = Tool.Run("heatmap", "--query", folder.File("q.npy"), "--key", folder.File("k.npy"), "--heads", "1", "--causal", "--out", path);
        Assert.True(result.ExitCode == 0, result.ToString());

        var cells = Heatmap.HeatmapTestData.CellRects(XDocument.Load(path), 0);
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 6; j++)
            {
                Assert.Equal(j > i + 3, (string?)cells[(i * 6) + j].Attribute("fill") == "url(#sa-masked)");
            }
        }
    }

    [Fact]
    public void WithoutCausalNothingIsMasked()
    {
        using var folder = new TempFolder();
        string path = folder.File("h.svg");
        Assert.Equal(0, Tool.Run("heatmap", "--sentence", "a b c", "--out", path).ExitCode);
        Assert.DoesNotContain("sa-masked", File.ReadAllText(path), StringComparison.Ordinal);
    }

    private static string[] Texts(string path) =>
        XDocument.Load(path).Descendants().Where(e => e.Name == Svg + "text" || e.Name == Svg + "title").Select(e => e.Value).ToArray();
}
