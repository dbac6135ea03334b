using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using SelfAttention.Cli.Heatmap;
using Xunit;
using static SelfAttention.Cli.Tests.Heatmap.HeatmapTestData;

namespace SelfAttention.Cli.Tests.Heatmap;

/// <summary>The document as a whole: well-formed, self-contained SVG 1.1, one rect per cell, the grid, determinism.</summary>
public sealed partial class SvgHeatmapStructureTests
{
    [Fact]
    public void Render_IsWellFormedSelfContainedSvg11()
    {
        string svg = SvgHeatmap.Render([Panel(3, 4), Panel(3, 4, seed: 2, title: "head 1")], new HeatmapOptions { Title = "t", Caption = "rows: queries; columns: keys" });

        XDocument document = Parse(svg);
        XElement root = document.Root!;
        Assert.Equal(Svg + "svg", root.Name);
        Assert.Equal("1.1", (string?)root.Attribute("version"));
        int width = int.Parse((string)root.Attribute("width")!, CultureInfo.InvariantCulture);
        int height = int.Parse((string)root.Attribute("height")!, CultureInfo.InvariantCulture);
        Assert.InRange(width, 100, 2000);
        Assert.InRange(height, 100, 2000);
        Assert.Equal($"0 0 {width} {height}", (string?)root.Attribute("viewBox"));

        // Nothing external or active: no scripts, stylesheets, foreign content; links only to data: or to ids in the file.
        string[] forbidden = ["script", "style", "foreignObject", "iframe", "link"];
        Assert.DoesNotContain(document.Descendants(), e => forbidden.Contains(e.Name.LocalName));
        Assert.DoesNotContain("@import", svg, StringComparison.Ordinal);
        var ids = document.Descendants().Select(e => (string?)e.Attribute("id")).Where(id => id is not null).ToHashSet();
        foreach (XAttribute attribute in document.Descendants().Attributes())
        {
            if (attribute.Name == XLink + "href" || attribute.Name.LocalName == "href")
            {
                Assert.True(attribute.Value.StartsWith("data:", StringComparison.Ordinal) || attribute.Value.StartsWith('#'), attribute.Value);
            }

            foreach (Match reference in UrlReference().Matches(attribute.Value))
            {
                Assert.Contains(reference.Groups[1].Value, ids);
            }
        }

        Assert.Equal(ids.Count, document.Descendants().Count(e => e.Attribute("id") is not null));
    }

    [Fact]
    public void Render_DrawsOneRectPerCellWithATooltipEach()
    {
        XDocument document = Parse(SvgHeatmap.Render([Panel(3, 4), Panel(3, 4, seed: 2, title: "head 1")]));

        for (int p = 0; p < 2; p++)
        {
            List<XElement> cells = CellRects(document, p);
            Assert.Equal(12, cells.Count);
            Assert.All(cells, cell => Assert.Single(cell.Elements(Svg + "title")));
            Assert.All(cells, cell => Assert.Matches("^#[0-9a-f]{6}$", (string)cell.Attribute("fill")!));
        }

        Assert.Equal(["head 0", "head 1"], document.Descendants(Svg + "text").Select(t => t.Value).Where(t => t.StartsWith("head", StringComparison.Ordinal)));
    }

    [Fact]
    public void Render_CellsTileTheMatrixRowMajor()
    {
        XDocument document = Parse(SvgHeatmap.Render([Panel(2, 3)]));

        List<XElement> cells = CellRects(document, 0);
        double size = double.Parse((string)cells[0].Attribute("width")!, CultureInfo.InvariantCulture);
        for (int k = 0; k < cells.Count; k++)
        {
            Assert.Equal((k % 3) * size, double.Parse((string)cells[k].Attribute("x")!, CultureInfo.InvariantCulture));
            Assert.Equal((k / 3) * size, double.Parse((string)cells[k].Attribute("y")!, CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public void Render_LaysPanelsOutInAGrid()
    {
        // Seven small panels, at most four to a row: balanced rows of four and three.
        var panels = Enumerable.Range(0, 7).Select(h => Panel(4, 4, seed: h, title: $"head {h}")).ToList();
        XDocument document = Parse(SvgHeatmap.Render(panels, new HeatmapOptions { MaxColumnsPerRow = 4 }));

        var origins = Enumerable.Range(0, 7).Select(p => Translation(ById(document, $"sa-panel-{p}"))).ToList();
        Assert.True(origins[0].X < origins[1].X && origins[1].X < origins[2].X && origins[2].X < origins[3].X);
        Assert.All(origins.Take(4), o => Assert.Equal(origins[0].Y, o.Y));
        Assert.Equal(origins[0].X, origins[4].X);
        Assert.Equal(origins[1].X, origins[5].X);
        Assert.True(origins[4].Y > origins[0].Y);
    }

    [Fact]
    public void Render_BalancesTheRows()
    {
        // Six panels, at most four to a row: two rows of three, not four and two.
        var panels = Enumerable.Range(0, 6).Select(h => Panel(4, 4, seed: h, title: $"head {h}")).ToList();
        XDocument document = Parse(SvgHeatmap.Render(panels, new HeatmapOptions { MaxColumnsPerRow = 4 }));

        var origins = Enumerable.Range(0, 6).Select(p => Translation(ById(document, $"sa-panel-{p}"))).ToList();
        Assert.All(origins.Take(3), o => Assert.Equal(origins[0].Y, o.Y));
        Assert.Equal(origins[0].X, origins[3].X);
        Assert.True(origins[3].Y > origins[0].Y);
    }

    [Fact]
    public void Render_SizesGridColumnsToTheirOwnPanels()
    {
        // A small panel after a big one sits right after it, and the legend right after the small one (on a page
        // wide enough for both in one row).
        XDocument document = Parse(SvgHeatmap.Render([Panel(300, 300), Panel(3, 3, title: "head 1")], new HeatmapOptions { MaxWidth = 3000 }));

        double big = Translation(ById(document, "sa-panel-1")).X - Translation(ById(document, "sa-panel-0")).X;
        double small = Translation(ById(document, "sa-legend")).X - Translation(ById(document, "sa-panel-1")).X;
        Assert.InRange(big, 1200, 1300);
        Assert.InRange(small, 120, 220);
    }

    [Fact]
    public void Render_SameInputGivesTheSameText()
    {
        HeatmapPanel[] panels = [Panel(5, 5), Panel(100, 100, seed: 3, title: "head 1")];
        var options = new HeatmapOptions { Title = "x" };

        Assert.Equal(SvgHeatmap.Render(panels, options), SvgHeatmap.Render(panels, options));
    }

    [Theory]
    [InlineData(null, 8, true)]
    [InlineData(null, 16, true)]
    [InlineData(null, 17, false)]
    [InlineData(false, 4, false)]
    [InlineData(true, 30, true)]
    public void Render_PrintsValuesInCellsWhenAskedOrSmall(bool? showValues, int side, bool expected)
    {
        XDocument document = Parse(SvgHeatmap.Render([Panel(side, side)], new HeatmapOptions { ShowValues = showValues }));

        XElement? values = document.Descendants().SingleOrDefault(e => (string?)e.Attribute("id") == "sa-panel-0-values");
        Assert.Equal(expected, values is not null);
        if (values is not null)
        {
            Assert.Equal(side * side, values.Elements(Svg + "text").Count());
            Assert.Equal("none", (string?)values.Attribute("pointer-events"));
        }
    }

    [Fact]
    public void Render_KeepsSmallCellsAtMostFortyPixels()
    {
        XDocument document = Parse(SvgHeatmap.Render([Panel(2, 2)]));

        Assert.All(CellRects(document, 0), cell => Assert.Equal("40", (string?)cell.Attribute("width")));
    }

    [Fact]
    public void Render_StretchesTheShortSideOfAnElongatedMatrix()
    {
        // One query over 300 keys: 4 px wide cells, but a row tall enough to see and label.
        XDocument document = Parse(SvgHeatmap.Render([Panel(1, 300)], new HeatmapOptions { MaxWidth = 4000 }));

        XElement cell = CellRects(document, 0)[0];
        Assert.Equal("4", (string?)cell.Attribute("width"));
        Assert.Equal("24", (string?)cell.Attribute("height"));
    }

    internal static (double X, double Y) Translation(XElement element)
    {
        Match m = TranslateAttribute().Match((string)element.Attribute("transform")!);
        Assert.True(m.Success);
        return (double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"url\(#([^)]+)\)")]
    private static partial Regex UrlReference();

    [GeneratedRegex(@"^translate\(([-0-9.]+) ([-0-9.]+)\)$")]
    private static partial Regex TranslateAttribute();
}
