using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using SelfAttention.Cli.Heatmap;
using Xunit;
using static SelfAttention.Cli.Tests.Heatmap.HeatmapTestData;

namespace SelfAttention.Cli.Tests.Heatmap;

/// <summary>Numbers are written the same way whatever the machine's culture.</summary>
public sealed partial class SvgHeatmapCultureTests
{
    private static string RenderUnder(string culture, IReadOnlyList<HeatmapPanel> panels, HeatmapOptions options)
    {
        CultureInfo saved = CultureInfo.CurrentCulture, savedUi = CultureInfo.CurrentUICulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo(culture);
            return SvgHeatmap.Render(panels, options);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
            CultureInfo.CurrentUICulture = savedUi;
        }
    }

    private static (HeatmapPanel[] Panels, HeatmapOptions Options) Sample()
    {
        // Fractional layout (1 × 3000 cells of 0.4 px), an extended domain, NaN and values printed in cells.
        float[] small = Weights(3, 3, 1);
        small[0] = -0.375f;
        small[1] = float.NaN;
        small[8] = 1.625f;
        string[] labels = ["a", "b", "c"];
        return ([new HeatmapPanel("head 0", labels, labels, small), Panel(2, 3000, seed: 2, title: "head 1"), Panel(40, 40, seed: 3, title: "head 2")],
            new HeatmapOptions { Title = "t", ShowValues = true, MaxColumnsPerRow = 2 });
    }

    [Theory]
    [InlineData("de-DE")]
    [InlineData("fr-FR")]
    [InlineData("ar-SA")]
    public void Render_IsTheSameUnderAnyCulture(string culture)
    {
        var (panels, options) = Sample();
        Assert.Equal(RenderUnder("", panels, options), RenderUnder(culture, panels, options));
    }

    [Fact]
    public void Render_UnderGermanCulture_HasNoDecimalCommas()
    {
        Assert.Equal(",", CultureInfo.GetCultureInfo("de-DE").NumberFormat.NumberDecimalSeparator); // the test means something

        var (panels, options) = Sample();
        XDocument document = Parse(RenderUnder("de-DE", panels, options));

        int numbers = 0;
        foreach (XAttribute attribute in document.Descendants().Attributes())
        {
            if (attribute.Name == XLink + "href")
            {
                continue; // "data:image/png;base64,…" has its own comma
            }

            Assert.DoesNotMatch(DecimalComma(), attribute.Value);
            numbers += DecimalPoint().Matches(attribute.Value).Count;
        }

        foreach (XText text in document.DescendantNodes().OfType<XText>())
        {
            Assert.DoesNotMatch(DecimalComma(), text.Value);
        }

        Assert.True(numbers > 10, $"only {numbers} fractional numbers in attributes: the sample no longer exercises them");
        Assert.Contains("-0.38", Texts(ById(document, "sa-panel-0-values")));
        Assert.Contains("min -0.375, max 1.625", Texts(ById(document, "sa-legend")));
    }

    [GeneratedRegex(@"\d,\d")]
    private static partial Regex DecimalComma();

    [GeneratedRegex(@"\d\.\d")]
    private static partial Regex DecimalPoint();
}
