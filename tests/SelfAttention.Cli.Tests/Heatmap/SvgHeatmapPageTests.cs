using System.Globalization;
using System.Xml.Linq;
using SelfAttention.Cli.Heatmap;
using static SelfAttention.Cli.Tests.Heatmap.HeatmapTestData;

namespace SelfAttention.Cli.Tests.Heatmap;

/// <summary>
/// The page: panels wrap into a grid no wider than <see cref="HeatmapOptions.MaxWidth"/> with the colour bar inside
/// it; masked cells are hatched and say so, whatever their value.
/// </summary>
public sealed class SvgHeatmapPageTests
{
    public static TheoryData<int, int, int> Grids()
    {
        var data = new TheoryData<int, int, int>();
        foreach (int heads in new[] { 1, 2, 3, 4, 6, 8, 12, 16 })
        {
            foreach (int side in new[] { 3, 10, 16, 40, 100, 300 })
            {
                data.Add(heads, side, 1200);
            }
        }

        data.Add(4, 10, 800);
        data.Add(12, 64, 600);
        return data;
    }

    [Theory]
    [MemberData(nameof(Grids))]
    public void TheDocumentAndItsColourBarFitThePage(int heads, int side, int maxWidth)
    {
        HeatmapPanel[] panels = Enumerable.Range(0, heads).Select(h => Panel(side, side, seed: h, title: $"head {h}")).ToArray();
        XDocument document = Parse(SvgHeatmap.Render(panels, new HeatmapOptions { MaxWidth = maxWidth }));

        double width = Number(document.Root!, "width");
        Assert.InRange(width, 1, maxWidth);
        double legendX = SvgHeatmapStructureTests.Translation(ById(document, "sa-legend")).X;
        double legendWidth = new ColorBar(ColorScale.For(panels), HeatmapOptions.Default.ValueLabel, 140).Width;
        Assert.True(legendX + legendWidth <= width, $"legend {legendX} + {legendWidth} past {width}");
        for (int p = 0; p < heads; p++)
        {
            Assert.True(SvgHeatmapStructureTests.Translation(ById(document, $"sa-panel-{p}")).X < legendX);
        }
    }

    [Fact]
    public void FourHeadsOfTenTokensWrapIntoTwoRows()
    {
        HeatmapPanel[] panels = Enumerable.Range(0, 4).Select(h => Panel(10, 10, seed: h, title: $"head {h}")).ToArray();
        XDocument document = Parse(SvgHeatmap.Render(panels));

        var origins = Enumerable.Range(0, 4).Select(p => SvgHeatmapStructureTests.Translation(ById(document, $"sa-panel-{p}"))).ToArray();
        Assert.Equal(origins[0].Y, origins[1].Y);
        Assert.True(origins[2].Y > origins[0].Y);
        Assert.Equal(origins[0].X, origins[2].X);
        Assert.Equal(origins[1].X, origins[3].X);
        Assert.Equal("40", (string?)CellRects(document, 0)[0].Attribute("width")); // wrapping, not shrinking
    }

    [Fact]
    public void PanelsSlightlyTooWideForTwoInARowShrinkRatherThanStackOneByOne()
    {
        // 12 × 20 panels need about 520 px each at their natural 24 px cells: two to a row once the cells shrink a little.
        HeatmapPanel[] panels = Enumerable.Range(0, 6).Select(h => Panel(12, 20, seed: h, title: $"head {h}")).ToArray();
        XDocument document = Parse(SvgHeatmap.Render(panels));

        var origins = Enumerable.Range(0, 6).Select(p => SvgHeatmapStructureTests.Translation(ById(document, $"sa-panel-{p}"))).ToArray();
        Assert.Equal(origins[0].Y, origins[1].Y);
        Assert.True(origins[1].X > origins[0].X);
        Assert.Equal(origins[0].X, origins[2].X);
        Assert.True(origins[2].Y > origins[0].Y);
        double cell = Number(CellRects(document, 0)[0], "width");
        Assert.InRange(cell, 17, 23); // shrunk from 24, by no more than 30 %
    }

    [Fact]
    public void APanelTooWideForThePageAloneIsShrunk()
    {
        XDocument document = Parse(SvgHeatmap.Render([Panel(200, 200)]));

        Assert.InRange(Number(document.Root!, "width"), 1, 1200);
        Assert.InRange(Number(ById(document, "sa-panel-0-image"), "width"), 600, 1000);
    }

    [Theory]
    [InlineData(5, 5)]
    [InlineData(3, 7)]
    [InlineData(7, 3)]
    public void CausalMaskedCellsAreHatchedAndSaySo(int rows, int columns)
    {
        // Masked cells hold 0.25 here: what marks them is the mask, never the value; one visible cell holds 0.
        float[] values = Enumerable.Repeat(0.25f, rows * columns).ToArray();
        values[^1] = 0; // the bottom-right cell: always visible
        bool[] masked = HeatmapPanel.CausalMask(rows, columns);
        var panel = new HeatmapPanel("head 0", Tokens(rows), Tokens(columns), values) { Masked = masked };
        XDocument document = Parse(SvgHeatmap.Render([panel]));

        List<XElement> cells = CellRects(document, 0);
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                bool expected = j > i + (columns - rows);
                XElement cell = cells[(i * columns) + j];
                string title = cell.Element(Svg + "title")!.Value;
                Assert.Equal(expected, (string?)cell.Attribute("fill") == $"url(#{ColorBar.MaskedPatternId})");
                Assert.Equal(expected, title.EndsWith(": masked", StringComparison.Ordinal));
            }
        }

        Assert.NotEqual($"url(#{ColorBar.MaskedPatternId})", (string?)cells[^1].Attribute("fill")); // a 0 weight that is not masked
        int visible = masked.Count(m => !m);
        Assert.Equal(visible, ById(document, "sa-panel-0-values").Elements(Svg + "text").Count());
        Assert.Single(document.Descendants(Svg + "pattern"), p => (string?)p.Attribute("id") == ColorBar.MaskedPatternId);
        Assert.Contains(ColorBar.MaskedLabel, Texts(ById(document, "sa-legend")));
    }

    [Fact]
    public void WithoutAMaskThereIsNoMaskedSwatch()
    {
        XDocument document = Parse(SvgHeatmap.Render([Panel(4, 4)]));

        Assert.DoesNotContain(document.Descendants(Svg + "pattern"), p => (string?)p.Attribute("id") == ColorBar.MaskedPatternId);
        Assert.DoesNotContain(ColorBar.MaskedLabel, Texts(ById(document, "sa-legend")));
    }

    [Fact]
    public void RasterPanelsGiveMaskedCellsTheMaskedGrey()
    {
        var panel = new HeatmapPanel("big", Tokens(100), Tokens(100), Weights(100, 100, 1)) { Masked = HeatmapPanel.CausalMask(100, 100) };
        XDocument document = Parse(SvgHeatmap.Render([panel]));

        string href = (string)ById(document, "sa-panel-0-image").Attribute(XLink + "href")!;
        var png = PngTestReader.Read(Convert.FromBase64String(href["data:image/png;base64,".Length..]));
        Assert.Equal(ColorScale.MaskedColor, png.Palette[ColorScale.MaskedLevel]);
        for (int i = 0; i < 100; i++)
        {
            for (int j = 0; j < 100; j++)
            {
                Assert.Equal(j > i, png.Indices[(i * 100) + j] == ColorScale.MaskedLevel);
            }
        }
    }

    [Fact]
    public void AMaskOfTheWrongLengthIsRefused()
    {
        var panel = new HeatmapPanel("h", Tokens(2), Tokens(2), Weights(2, 2, 1)) { Masked = new bool[3] };
        var e = Assert.Throws<ArgumentException>(() => SvgHeatmap.Render([panel]));
        Assert.Equal("panels", e.ParamName);
        Assert.Contains("Masked.Length: expected 4", e.Message, StringComparison.Ordinal);
    }

    private static double Number(XElement element, string attribute) =>
        double.Parse((string)element.Attribute(attribute)!, CultureInfo.InvariantCulture);
}
