using System.Globalization;
using System.Text;

namespace SelfAttention.Cli.Heatmap;

/// <summary>
/// The shared legend: a heading, a vertical viridis bar (bottom = <see cref="ColorScale.Min"/>) with tick labels,
/// then notes when the scale was widened beyond [0, 1] or some values are infinite, and a NaN swatch when some are NaN.
/// </summary>
internal sealed class ColorBar
{
    /// <summary>The id of the gradient in <c>&lt;defs&gt;</c>.</summary>
    public const string GradientId = "sa-viridis";

    /// <summary>The id of the NaN hatch pattern in <c>&lt;defs&gt;</c>.</summary>
    public const string NaNPatternId = "sa-nan";

    /// <summary>The id of the masked-cell hatch pattern in <c>&lt;defs&gt;</c>.</summary>
    public const string MaskedPatternId = "sa-masked";

    private const double BarWidth = 14;
    private const double FontSize = 11;
    private const double HeadingFontSize = 12;
    private const double LineHeight = 15;

    private readonly ColorScale _scale;
    private readonly string _heading;
    private readonly IReadOnlyList<(double Value, string Label)> _ticks;
    private readonly List<string> _notes = [];
    private readonly bool _hasMasked;

    /// <summary>
    /// A legend for <paramref name="scale"/>, headed <paramref name="heading"/>, with a bar <paramref name="barHeight"/>
    /// px tall, and a "masked" swatch when <paramref name="hasMasked"/>.
    /// </summary>
    public ColorBar(ColorScale scale, string heading, double barHeight, bool hasMasked = false)
    {
        _scale = scale;
        _hasMasked = hasMasked;
        _heading = heading;
        _ticks = scale.Ticks();
        BarHeight = barHeight;
        if (scale.IsExtended)
        {
            _notes.Add("values outside [0, 1]:");
            _notes.Add("the scale spans the data,");
            _notes.Add($"min {ColorScale.FormatBound(scale.DataMin)}, max {ColorScale.FormatBound(scale.DataMax)}");
        }

        if (scale.HasInfinity)
        {
            _notes.Add("±∞ take the end colours");
        }

        double width = SvgText.EstimateWidth(heading, HeadingFontSize) * 1.1;
        foreach ((double _, string label) in _ticks)
        {
            width = Math.Max(width, BarWidth + 8 + SvgText.EstimateWidth(label, FontSize));
        }

        foreach (string note in _notes)
        {
            width = Math.Max(width, SvgText.EstimateWidth(note, FontSize));
        }

        Width = Math.Ceiling(width);
        if (hasMasked)
        {
            width = Math.Max(width, BarWidth + 6 + SvgText.EstimateWidth(MaskedLabel, FontSize));
        }

        double lines = _notes.Count + (scale.HasNaN ? 1 : 0) + (hasMasked ? 1 : 0);
        Height = Math.Ceiling(BarHeight + (lines > 0 ? 10 + (lines * LineHeight) : FontSize / 2));
    }

    /// <summary>The label of the masked swatch.</summary>
    public static string MaskedLabel => "masked";

    /// <summary>Space above the bar for the heading, px.</summary>
    public static double HeadingHeight => 22;

    /// <summary>The bar's height, px.</summary>
    public double BarHeight { get; }

    /// <summary>The legend's width, px.</summary>
    public double Width { get; }

    /// <summary>The legend's height from the top of the bar, px (notes and swatch included).</summary>
    public double Height { get; }

    /// <summary>The gradient (bottom to top, one stop per viridis anchor) and, when needed, the NaN and masked hatches.</summary>
    public static void WriteDefinitions(StringBuilder svg, bool withNaNPattern, bool withMaskedPattern = false)
    {
        IFormatProvider inv = CultureInfo.InvariantCulture;
        svg.Append(inv, $"<linearGradient id=\"{GradientId}\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">\n");
        for (int k = 0; k < Viridis.AnchorCount; k++)
        {
            double position = Viridis.AnchorPosition(k);
            svg.Append(inv, $"<stop offset=\"{Math.Round(position, 4)}\" stop-color=\"{Viridis.At(position).Hex}\"/>\n");
        }

        svg.Append("</linearGradient>\n");
        if (withNaNPattern)
        {
            // Light grey with dark diagonal strokes, tiled every 6 px; the extra corner strokes keep the lines continuous across tiles.
            svg.Append(inv, $"<pattern id=\"{NaNPatternId}\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\">")
                .Append(inv, $"<rect width=\"6\" height=\"6\" fill=\"{ColorScale.NaNColor.Hex}\"/>")
                .Append("<path d=\"M0 6L6 0M-1 1L1 -1M5 7L7 5\" stroke=\"#888888\" stroke-width=\"1\"/></pattern>\n");
        }

        if (withMaskedPattern)
        {
            // Mid grey with white strokes falling to the right (NaN's rise): no viridis colour is grey, and the two
            // hatches differ in shade and direction.
            svg.Append(inv, $"<pattern id=\"{MaskedPatternId}\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\">")
                .Append(inv, $"<rect width=\"6\" height=\"6\" fill=\"{ColorScale.MaskedColor.Hex}\"/>")
                .Append("<path d=\"M0 0L6 6M5 -1L7 1M-1 5L1 7\" stroke=\"#f0f0f0\" stroke-width=\"1\"/></pattern>\n");
        }
    }

    /// <summary>Writes the legend with the bar's top-left corner at (<paramref name="x"/>, <paramref name="barTop"/>).</summary>
    public void Write(StringBuilder svg, double x, double barTop)
    {
        IFormatProvider inv = CultureInfo.InvariantCulture;
        svg.Append(inv, $"<g id=\"sa-legend\" transform=\"translate({SvgText.Px(x)} {SvgText.Px(barTop)})\" font-size=\"{FontSize}\" fill=\"#222222\">\n");
        svg.Append(inv, $"<text x=\"0\" y=\"-10\" font-size=\"{HeadingFontSize}\" font-weight=\"bold\">{SvgText.Escape(_heading)}</text>\n");
        svg.Append(inv, $"<rect x=\"0\" y=\"0\" width=\"{BarWidth}\" height=\"{SvgText.Px(BarHeight)}\" fill=\"url(#{GradientId})\" stroke=\"#444444\" stroke-width=\"0.5\"/>\n");

        // y = BarHeight · (1 − (v − min) / (max − min)): the bar grows upwards.
        foreach ((double value, string label) in _ticks)
        {
            double y = SvgText.Px(BarHeight * (1 - ((value - _scale.Min) / (_scale.Max - _scale.Min))));
            svg.Append(inv, $"<path d=\"M{BarWidth} {y}h4\" stroke=\"#444444\" stroke-width=\"1\"/>")
                .Append(inv, $"<text x=\"{BarWidth + 7}\" y=\"{SvgText.Px(y + (FontSize * 0.35))}\">{SvgText.Escape(label)}</text>\n");
        }

        double lineY = BarHeight + 10 + LineHeight - 3;
        foreach (string note in _notes)
        {
            svg.Append(inv, $"<text x=\"0\" y=\"{SvgText.Px(lineY)}\">{SvgText.Escape(note)}</text>\n");
            lineY += LineHeight;
        }

        if (_scale.HasNaN)
        {
            svg.Append(inv, $"<rect x=\"0\" y=\"{SvgText.Px(lineY - 10)}\" width=\"{BarWidth}\" height=\"12\" fill=\"url(#{NaNPatternId})\" stroke=\"#444444\" stroke-width=\"0.5\"/>")
                .Append(inv, $"<text x=\"{BarWidth + 6}\" y=\"{SvgText.Px(lineY)}\">NaN</text>\n");
            lineY += LineHeight;
        }

        if (_hasMasked)
        {
            svg.Append(inv, $"<rect x=\"0\" y=\"{SvgText.Px(lineY - 10)}\" width=\"{BarWidth}\" height=\"12\" fill=\"url(#{MaskedPatternId})\" stroke=\"#444444\" stroke-width=\"0.5\"/>")
                .Append(inv, $"<text x=\"{BarWidth + 6}\" y=\"{SvgText.Px(lineY)}\">{SvgText.Escape(MaskedLabel)}</text>\n");
        }

        svg.Append("</g>\n");
    }
}
