using System.Xml.Linq;
using SelfAttention.Cli.Heatmap;
using Xunit;
using static SelfAttention.Cli.Tests.Heatmap.HeatmapTestData;

namespace SelfAttention.Cli.Tests.Heatmap;

/// <summary>Cell colours, the colour bar, the widened domain, NaN and infinities, value text contrast.</summary>
public sealed class SvgHeatmapColorTests
{
    private const string ViridisFirst = "#440154";
    private const string ViridisLast = "#fde725";

    private static HeatmapPanel Row(params float[] values) =>
        new("head 0", ["q"], Tokens(values.Length), values);

    private static List<string> Fills(XDocument document) =>
        CellRects(document, 0).Select(cell => (string)cell.Attribute("fill")!).ToList();

    private static XElement Legend(XDocument document) => ById(document, "sa-legend");

    [Fact]
    public void Render_HasASharedColourBarWithTicksFromZeroToOne()
    {
        XDocument document = Parse(SvgHeatmap.Render([Panel(3, 3), Panel(3, 3, seed: 2, title: "head 1")]));

        XElement gradient = ById(document, "sa-viridis");
        Assert.Equal(Svg + "linearGradient", gradient.Name);
        List<XElement> stops = gradient.Elements(Svg + "stop").ToList();
        Assert.Equal(17, stops.Count);
        Assert.Equal(ViridisFirst, (string?)stops[0].Attribute("stop-color"));
        Assert.Equal(ViridisLast, (string?)stops[^1].Attribute("stop-color"));

        Assert.Single(document.Descendants(), e => (string?)e.Attribute("id") == "sa-legend");
        XElement legend = Legend(document);
        Assert.Contains(legend.Elements(Svg + "rect"), r => (string?)r.Attribute("fill") == "url(#sa-viridis)");
        Assert.Equal(["attention weight", "0.0", "0.2", "0.4", "0.6", "0.8", "1.0"], Texts(legend));
    }

    [Fact]
    public void Render_MapsZeroAndOneToTheEndsOfViridis()
    {
        XDocument document = Parse(SvgHeatmap.Render([Row(0f, 0.5f, 1f)]));

        List<string> fills = Fills(document);
        Assert.Equal(ViridisFirst, fills[0]);
        Assert.Equal("#21908c", fills[1]);
        Assert.Equal(ViridisLast, fills[2]);
        Assert.DoesNotContain("outside", string.Join(" ", Texts(Legend(document))), StringComparison.Ordinal);
    }

    [Fact]
    public void Render_WidensTheDomainToValuesOutsideZeroToOneAndSaysSo()
    {
        // "Divide by the sum" weights: negative, and above 1.
        XDocument document = Parse(SvgHeatmap.Render([Row(-0.5f, 0.5f, 1f, 1.5f)]));

        List<string> fills = Fills(document);
        Assert.Equal(ViridisFirst, fills[0]);
        Assert.Equal(ViridisLast, fills[3]);
        Assert.NotEqual(ViridisLast, fills[2]); // 1.0 is no longer the top of the scale
        List<string> legend = Texts(Legend(document));
        Assert.Equal(["-0.5", "0.0", "0.5", "1.0", "1.5"], legend.Skip(1).Take(5));
        Assert.Contains("values outside [0, 1]:", legend);
        Assert.Contains("min -0.5, max 1.5", legend);
    }

    [Fact]
    public void Render_WidensOnlyTheSideThatOverflows()
    {
        XDocument document = Parse(SvgHeatmap.Render([Row(0.25f, 2f)]));

        List<string> legend = Texts(Legend(document));
        Assert.Equal("0.0", legend[1]);
        Assert.Equal("2.0", legend[^4]);
        Assert.Contains("min 0.25, max 2", legend);
    }

    [Fact]
    public void Render_HatchesNaNCellsAndListsNaNInTheLegend()
    {
        XDocument document = Parse(SvgHeatmap.Render([Row(0.2f, float.NaN, 0.8f)], new HeatmapOptions { ShowValues = true }));

        XElement cell = CellRects(document, 0)[1];
        Assert.Equal("url(#sa-nan)", (string?)cell.Attribute("fill"));
        Assert.EndsWith(": NaN", cell.Element(Svg + "title")!.Value, StringComparison.Ordinal);
        Assert.Equal(Svg + "pattern", ById(document, "sa-nan").Name);
        Assert.Equal("NaN", Texts(ById(document, "sa-panel-0-values"))[1]);
        Assert.Contains("NaN", Texts(Legend(document)));
        Assert.Contains(Legend(document).Elements(Svg + "rect"), r => (string?)r.Attribute("fill") == "url(#sa-nan)");
        Assert.DoesNotContain("outside", string.Join(" ", Texts(Legend(document))), StringComparison.Ordinal);
    }

    [Fact]
    public void Render_WithoutNaNHasNoNaNPatternOrSwatch()
    {
        XDocument document = Parse(SvgHeatmap.Render([Row(0.2f, 0.8f)]));

        Assert.DoesNotContain(document.Descendants(), e => (string?)e.Attribute("id") == "sa-nan");
        Assert.DoesNotContain("NaN", Texts(Legend(document)));
    }

    [Fact]
    public void Render_ClampsInfinitiesToTheEndsWithoutWideningTheDomain()
    {
        XDocument document = Parse(SvgHeatmap.Render([Row(float.NegativeInfinity, 0.5f, float.PositiveInfinity)]));

        List<string> fills = Fills(document);
        Assert.Equal(ViridisFirst, fills[0]);
        Assert.Equal(ViridisLast, fills[2]);
        List<string> legend = Texts(Legend(document));
        Assert.Equal("1.0", legend[6]);
        Assert.Contains("±∞ take the end colours", legend);
        Assert.EndsWith(": Infinity", CellRects(document, 0)[2].Element(Svg + "title")!.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_AllNaNStillHasTheZeroToOneScale()
    {
        XDocument document = Parse(SvgHeatmap.Render([Row(float.NaN, float.NaN)]));

        Assert.Equal(["attention weight", "0.0", "0.2", "0.4", "0.6", "0.8", "1.0", "NaN"], Texts(Legend(document)));
    }

    [Fact]
    public void Render_WritesValuesInWhiteOnDarkCellsAndBlackOnLightCells()
    {
        XDocument document = Parse(SvgHeatmap.Render([Row(0f, 0.1f, 0.9f, 1f)]));

        List<XElement> texts = ById(document, "sa-panel-0-values").Elements(Svg + "text").ToList();
        Assert.Equal(["0.00", "0.10", "0.90", "1.00"], texts.Select(t => t.Value));
        Assert.Equal(["#ffffff", "#ffffff", "#000000", "#000000"], texts.Select(t => (string)t.Attribute("fill")!));
    }

    [Fact]
    public void Render_UsesTheValueLabelAsTheLegendHeading()
    {
        XDocument document = Parse(SvgHeatmap.Render([Row(0.5f)], new HeatmapOptions { ValueLabel = "score <raw>" }));

        Assert.Equal("score <raw>", Texts(Legend(document))[0]);
    }
}
