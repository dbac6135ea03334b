using System.Xml.Linq;
using SelfAttention.Cli.Heatmap;
using Xunit;
using static SelfAttention.Cli.Tests.Heatmap.HeatmapTestData;

namespace SelfAttention.Cli.Tests.Heatmap;

/// <summary>Row and column labels, titles and tooltips: present, escaped, shortened, thinned.</summary>
public sealed class SvgHeatmapLabelTests
{
    private static readonly string[] Awkward = ["<&>\"'", "café", "日本", "😀 ok"];

    [Fact]
    public void Render_EscapesMarkupAndKeepsNonAsciiLabels()
    {
        var panel = new HeatmapPanel("head <0> & \"1\"", Awkward, Awkward, Weights(4, 4, 1));
        string svg = SvgHeatmap.Render([panel], new HeatmapOptions { Title = "A & B <c>", Caption = "'quoted'" });

        Assert.Contains("&lt;&amp;&gt;&quot;&apos;", svg, StringComparison.Ordinal);
        Assert.DoesNotContain("<&>", svg, StringComparison.Ordinal);
        XDocument document = Parse(svg);
        Assert.Equal(Awkward, Texts(ById(document, "sa-panel-0-rows")));
        Assert.Equal(Awkward, Texts(ById(document, "sa-panel-0-columns")));
        List<string> texts = Texts(document);
        Assert.Contains("head <0> & \"1\"", texts);
        Assert.Contains("A & B <c>", texts);
        Assert.Contains("'quoted'", texts);
        Assert.Equal("A & B <c>", document.Root!.Element(Svg + "title")!.Value);
    }

    [Fact]
    public void Render_TooltipNamesQueryKeyAndValue()
    {
        var panel = new HeatmapPanel("head 0", ["I", "love"], ["love", "bears"], [0.5f, 0.5f, 0.58766f, 0.41234f]);

        XDocument document = Parse(SvgHeatmap.Render([panel]));

        List<string> tooltips = CellRects(document, 0).Select(cell => cell.Element(Svg + "title")!.Value).ToList();
        Assert.Equal("query 1 'love' → key 1 'bears': 0.4123", tooltips[3]);
        Assert.Equal("query 0 'I' → key 0 'love': 0.5", tooltips[0]);
    }

    [Fact]
    public void Render_TooltipsEscapeAwkwardLabels()
    {
        var panel = new HeatmapPanel("head 0", Awkward, Awkward, Weights(4, 4, 1));

        XDocument document = Parse(SvgHeatmap.Render([panel]));

        Assert.StartsWith("query 0 '<&>\"'' → key 2 '日本': ", CellRects(document, 0)[2].Element(Svg + "title")!.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_ShowsControlCharactersAndBrokenSurrogatesVisibly()
    {
        // XML 1.0 cannot carry U+0001 at all, so these must be replaced, not escaped.
        string[] labels = ["a\nb", "tab\there", "\u0001", "bad\ud800"];
        var panel = new HeatmapPanel("head\r\n0", labels, labels, Weights(4, 4, 1));

        XDocument document = Parse(SvgHeatmap.Render([panel]));

        Assert.Equal(["a␊b", "tab␉here", "␁", "bad\ufffd"], Texts(ById(document, "sa-panel-0-rows")));
        Assert.Contains("head␍␊0", Texts(document));
    }

    [Fact]
    public void Render_ShortensLongLabelsButTooltipsKeepThem()
    {
        string longLabel = "an_extraordinarily_long_token_name";
        var panel = new HeatmapPanel("head 0", [longLabel, "b"], ["c", longLabel], Weights(2, 2, 1));

        XDocument document = Parse(SvgHeatmap.Render([panel]));

        string shown = Texts(ById(document, "sa-panel-0-rows"))[0];
        Assert.Equal("an_extraordinar…", shown);
        Assert.Equal(SvgText.MaxLabelLength, shown.Length);
        Assert.Contains(longLabel, CellRects(document, 0)[1].Element(Svg + "title")!.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_RotatesColumnLabelsThatDoNotFit()
    {
        string[] rows = ["a", "b"];
        XDocument fits = Parse(SvgHeatmap.Render([new HeatmapPanel("h", rows, ["x", "y"], Weights(2, 2, 1))]));
        XDocument rotated = Parse(SvgHeatmap.Render([new HeatmapPanel("h", rows, ["a_long_key", "another_key"], Weights(2, 2, 1))]));

        Assert.All(ById(fits, "sa-panel-0-columns").Elements(), t => Assert.Null(t.Attribute("transform")));
        Assert.All(ById(rotated, "sa-panel-0-columns").Elements(), t => Assert.StartsWith("rotate(-45 ", (string)t.Attribute("transform")!, StringComparison.Ordinal));
    }

    [Fact]
    public void Render_RotatedLabelsStayInsideTheDocument()
    {
        // The -45° labels climb up and to the right of the matrix: the panel must leave room above and to the right.
        string[] keys = ["first_long_token", "second_long_tok", "third_long_token"];
        XDocument document = Parse(SvgHeatmap.Render([new HeatmapPanel("h", ["q"], keys, [0.2f, 0.3f, 0.5f])]));

        var origin = SvgHeatmapStructureTests.Translation(ById(document, "sa-panel-0"));
        XElement matrix = ById(document, "sa-panel-0-cells").Parent!;
        var matrixOrigin = SvgHeatmapStructureTests.Translation(matrix);
        double matrixTop = origin.Y + matrixOrigin.Y;
        double labelReach = SvgText.EstimateWidth(keys[0], PanelLayout.LabelFontSize) * Math.Sqrt(0.5);
        Assert.True(matrixTop - labelReach > 0, $"matrix top {matrixTop}, label reach {labelReach}");

        double width = double.Parse((string)document.Root!.Attribute("width")!, System.Globalization.CultureInfo.InvariantCulture);
        double lastColumnCentre = origin.X + matrixOrigin.X + (2.5 * 40);
        Assert.True(lastColumnCentre + labelReach < width);
    }

    [Fact]
    public void Render_ThinsLabelsWhenCellsAreSmallerThanTheText()
    {
        // 200 × 200 in 1200 px (on a page wide enough): 6 px cells, so every third label (13 px apart) is drawn.
        XDocument document = Parse(SvgHeatmap.Render([Panel(200, 200)], new HeatmapOptions { MaxWidth = 4000 }));

        List<string> rows = Texts(ById(document, "sa-panel-0-rows"));
        Assert.Equal(Enumerable.Range(0, 67).Select(k => $"t{3 * k}"), rows);
        Assert.Equal(rows, Texts(ById(document, "sa-panel-0-columns")));
        Assert.All(ById(document, "sa-panel-0-columns").Elements(), t => Assert.StartsWith("rotate(-90 ", (string)t.Attribute("transform")!, StringComparison.Ordinal));
    }
}
