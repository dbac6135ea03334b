using System.Globalization;
using System.Text;
using System.Xml.Linq;
using SelfAttention.Cli.Heatmap;
using Xunit;
using static SelfAttention.Cli.Tests.Heatmap.HeatmapTestData;

namespace SelfAttention.Cli.Tests.Heatmap;

/// <summary>Big matrices: capped panel size, an embedded PNG instead of a rect per cell, a bounded file.</summary>
public sealed class SvgHeatmapLargeTests
{
    // Uniform noise: the worst case for compression.
    private static HeatmapPanel Noise(int rows, int columns, int seed)
    {
        var random = new Random(seed);
        var values = new float[rows * columns];
        for (int k = 0; k < values.Length; k++)
        {
            values[k] = random.NextSingle();
        }

        return new HeatmapPanel($"head {seed}", Tokens(rows), Tokens(columns), values);
    }

    private static double Number(XElement element, string attribute) =>
        double.Parse((string)element.Attribute(attribute)!, CultureInfo.InvariantCulture);

    [Fact]
    public void Render_512x512_IsOneEmbeddedPngInABoundedFile()
    {
        // On a page wide enough for the whole 1200 px panel budget (the default page shrinks it: see SvgHeatmapPageTests).
        string svg = SvgHeatmap.Render([Noise(512, 512, 1)], new HeatmapOptions { MaxWidth = 4000 });

        Assert.InRange(Encoding.UTF8.GetByteCount(svg), 1, 512 * 1024);
        XDocument document = Parse(svg);
        Assert.DoesNotContain(document.Descendants(), e => (string?)e.Attribute("id") == "sa-panel-0-cells");
        XElement image = ById(document, "sa-panel-0-image");
        Assert.Equal(1024, Number(image, "width"));
        Assert.Equal(1024, Number(image, "height"));
        Assert.Contains("pixelated", (string?)image.Attribute("style"), StringComparison.Ordinal);
        Assert.Equal(1, document.Descendants(Svg + "title").Count(t => t.Parent == image));

        string href = (string)image.Attribute(XLink + "href")!;
        Assert.StartsWith("data:image/png;base64,", href, StringComparison.Ordinal);
        var png = PngTestReader.Read(Convert.FromBase64String(href["data:image/png;base64,".Length..]));
        Assert.Equal((512, 512), (png.Width, png.Height));
        Assert.Equal(ColorScale.PaletteLevels + 2, png.Palette.Length);
    }

    [Fact]
    public void Render_RasterPixelsAreThePaletteLevelsOfTheValues()
    {
        HeatmapPanel panel = Noise(70, 90, 2);
        panel.Values[5] = float.NaN;
        XDocument document = Parse(SvgHeatmap.Render([panel]));

        string href = (string)ById(document, "sa-panel-0-image").Attribute(XLink + "href")!;
        var png = PngTestReader.Read(Convert.FromBase64String(href[(href.IndexOf(',', StringComparison.Ordinal) + 1)..]));
        Assert.Equal((90, 70), (png.Width, png.Height));
        for (int k = 0; k < panel.Values.Length; k++)
        {
            byte expected = float.IsNaN(panel.Values[k]) ? ColorScale.NaNLevel : (byte)Math.Round((double)panel.Values[k] * (ColorScale.PaletteLevels - 1), MidpointRounding.AwayFromZero);
            Assert.Equal(expected, png.Indices[k]);
        }

        Assert.Equal(Viridis.At(0), png.Palette[0]);
        Assert.Equal(Viridis.At(1), png.Palette[ColorScale.PaletteLevels - 1]);
        Assert.Equal(ColorScale.MaskedColor, png.Palette[ColorScale.MaskedLevel]);
        Assert.Equal(ColorScale.NaNColor, png.Palette[255]);
    }

    [Fact]
    public void Render_KeepsEachPanelWithinMaxPanelSize()
    {
        XDocument document = Parse(SvgHeatmap.Render([Noise(700, 700, 3), Noise(700, 700, 4)], new HeatmapOptions { MaxPanelSize = 600 }));

        for (int p = 0; p < 2; p++)
        {
            XElement image = ById(document, $"sa-panel-{p}-image");
            Assert.InRange(Number(image, "width"), 300, 600);
            Assert.InRange(Number(image, "height"), 300, 600);
        }

        Assert.InRange(Number(document.Root!, "width"), 600, 1800);
    }

    [Fact]
    public void Render_MoreKeysThanPixelsShrinksCellsBelowOnePixel()
    {
        XDocument document = Parse(SvgHeatmap.Render([Noise(2, 3000, 5)], new HeatmapOptions { MaxWidth = 4000 }));

        XElement image = ById(document, "sa-panel-0-image");
        Assert.Equal(1200, Number(image, "width"));
    }

    [Fact]
    public void Render_64x64_DrawsCellsWithoutPerCellTooltips()
    {
        string svg = SvgHeatmap.Render([Noise(64, 64, 6)]);

        XDocument document = Parse(svg);
        List<XElement> cells = CellRects(document, 0);
        Assert.Equal(4096, cells.Count);
        Assert.All(cells, cell => Assert.Empty(cell.Elements()));
        Assert.Contains("no per-cell tooltips", ById(document, "sa-panel-0-cells").Parent!.Element(Svg + "title")!.Value, StringComparison.Ordinal);
        Assert.InRange(Encoding.UTF8.GetByteCount(svg), 1, 300 * 1024);
    }

    [Fact]
    public void Render_32x32_StillHasTooltips()
    {
        XDocument document = Parse(SvgHeatmap.Render([Noise(32, 32, 7)]));

        Assert.All(CellRects(document, 0), cell => Assert.Single(cell.Elements(Svg + "title")));
    }

    [Fact]
    public void Render_EightHeadsOf512_StayUnderAFewMegabytes()
    {
        var panels = Enumerable.Range(0, 8).Select(h => new HeatmapPanel($"head {h}", Tokens(512), Tokens(512), Weights(512, 512, h))).ToList();

        string svg = SvgHeatmap.Render(panels);

        Assert.InRange(Encoding.UTF8.GetByteCount(svg), 1, 4 * 1024 * 1024);
        Assert.Equal(8, Parse(svg).Descendants(Svg + "image").Count());
    }
}
