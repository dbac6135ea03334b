using System.Globalization;

namespace SelfAttention.Cli.Heatmap;

/// <summary>
/// The value → colour mapping shared by every panel and the colour bar. The domain is [0, 1], the range of softmax
/// weights, widened to take in every finite value when some lie outside it (the "divide by the sum" normalisation can
/// give negative weights or weights above 1). NaN has no colour here (the renderer hatches it); −∞ and +∞ clamp to the ends.
/// </summary>
internal sealed class ColorScale
{
    /// <summary>
    /// Viridis levels in the raster palette (indices 0 to <c>PaletteLevels − 1</c>); index <see cref="MaskedLevel"/> is
    /// the masked grey and <see cref="NaNLevel"/> the NaN grey.
    /// </summary>
    public const int PaletteLevels = 254;

    /// <summary>The palette index of a masked cell in raster panels.</summary>
    public const byte MaskedLevel = 254;

    /// <summary>The palette index of a NaN cell in raster panels.</summary>
    public const byte NaNLevel = 255;

    /// <summary>The fill of NaN cells (under the hatch in vector panels, alone in raster panels).</summary>
    public static readonly Rgb NaNColor = new(0xdd, 0xdd, 0xdd);

    /// <summary>The fill of masked cells (under the hatch in vector panels, alone in raster panels): darker than NaN's, and no viridis colour.</summary>
    public static readonly Rgb MaskedColor = new(0xb4, 0xb4, 0xb4);

    private ColorScale(double min, double max, double dataMin, double dataMax, bool hasNaN, bool hasInfinity)
    {
        Min = min;
        Max = max;
        DataMin = dataMin;
        DataMax = dataMax;
        HasNaN = hasNaN;
        HasInfinity = hasInfinity;
    }

    /// <summary>The value drawn in the first colour.</summary>
    public double Min { get; }

    /// <summary>The value drawn in the last colour.</summary>
    public double Max { get; }

    /// <summary>The smallest finite value in the panels, or NaN when there is none.</summary>
    public double DataMin { get; }

    /// <summary>The largest finite value in the panels, or NaN when there is none.</summary>
    public double DataMax { get; }

    /// <summary>Whether some value is NaN (the legend then shows the NaN swatch).</summary>
    public bool HasNaN { get; }

    /// <summary>Whether some value is +∞ or −∞ (drawn in the end colours).</summary>
    public bool HasInfinity { get; }

    /// <summary>Whether the domain was widened beyond [0, 1] to take in the data.</summary>
    public bool IsExtended => Min < 0 || Max > 1;

    /// <summary>The scale for <paramref name="panels"/>: [min(0, data min), max(1, data max)] over finite values of cells that are not masked.</summary>
    public static ColorScale For(IReadOnlyList<HeatmapPanel> panels)
    {
        double dataMin = double.PositiveInfinity, dataMax = double.NegativeInfinity;
        bool hasNaN = false, hasInfinity = false;
        foreach (HeatmapPanel panel in panels)
        {
            for (int k = 0; k < panel.Values.Length; k++)
            {
                float v = panel.Values[k];
                if (panel.Masked is { } masked && masked[k])
                {
                    continue;
                }

                if (float.IsNaN(v))
                {
                    hasNaN = true;
                }
                else if (float.IsInfinity(v))
                {
                    hasInfinity = true;
                }
                else
                {
                    dataMin = Math.Min(dataMin, v);
                    dataMax = Math.Max(dataMax, v);
                }
            }
        }

        if (dataMin > dataMax)
        {
            return new ColorScale(0, 1, double.NaN, double.NaN, hasNaN, hasInfinity);
        }

        return new ColorScale(Math.Min(0, dataMin), Math.Max(1, dataMax), dataMin, dataMax, hasNaN, hasInfinity);
    }

    /// <summary>Where <paramref name="value"/> falls on the colour bar, in [0, 1]; NaN stays NaN.</summary>
    public double Position(float value)
    {
        if (float.IsNaN(value))
        {
            return double.NaN;
        }

        return Math.Clamp((value - Min) / (Max - Min), 0, 1);
    }

    /// <summary>The fill of a cell holding <paramref name="value"/> (NaN gets <see cref="NaNColor"/>).</summary>
    public Rgb Color(float value) => float.IsNaN(value) ? NaNColor : Viridis.At(Position(value));

    /// <summary>The raster palette index of <paramref name="value"/>: 0 … <c>PaletteLevels − 1</c> along the map, <see cref="NaNLevel"/> for NaN.</summary>
    public byte Level(float value) =>
        float.IsNaN(value) ? NaNLevel : (byte)Math.Round(Position(value) * (PaletteLevels - 1), MidpointRounding.AwayFromZero);

    /// <summary>The raster palette: <see cref="PaletteLevels"/> viridis colours, then the masked grey, then the NaN grey.</summary>
    public static Rgb[] Palette()
    {
        var palette = new Rgb[PaletteLevels + 2];
        for (int k = 0; k < PaletteLevels; k++)
        {
            palette[k] = Viridis.At(k / (double)(PaletteLevels - 1));
        }

        palette[MaskedLevel] = MaskedColor;
        palette[NaNLevel] = NaNColor;
        return palette;
    }

    /// <summary>
    /// About five "nice" tick values (multiples of 1, 2, 2.5 or 5 × 10^k) inside the domain, with their labels.
    /// [0, 1] gives 0, 0.2, …, 1.
    /// </summary>
    public IReadOnlyList<(double Value, string Label)> Ticks()
    {
        double step = NiceStep((Max - Min) / 5);
        var ticks = new List<(double, string)>();
        long first = (long)Math.Ceiling((Min / step) - 1e-9);
        long last = (long)Math.Floor((Max / step) + 1e-9);
        for (long k = first; k <= last; k++)
        {
            double value = k * step;
            ticks.Add((value, FormatTick(value, step)));
        }

        return ticks;
    }

    /// <summary>A domain end or data extreme for the legend, with four significant digits.</summary>
    public static string FormatBound(double value) => (value + 0.0).ToString("G4", CultureInfo.InvariantCulture);

    private static double NiceStep(double rough)
    {
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double fraction = rough / magnitude;
        double nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
        return nice * magnitude;
    }

    private static string FormatTick(double value, double step)
    {
        if (Math.Abs(value) < step * 1e-6)
        {
            value = 0; // not "-0.0"
        }

        if (step < 1e-4 || Math.Abs(value) >= 1e6)
        {
            return value.ToString("G3", CultureInfo.InvariantCulture);
        }

        // Enough decimals for the step: 0.2 → 1, 0.25 → 2, 5 → 0.
        int decimals = 0;
        while (decimals < 6 && Math.Abs((step * Math.Pow(10, decimals)) - Math.Round(step * Math.Pow(10, decimals))) > 1e-6)
        {
            decimals++;
        }

        return value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }
}
