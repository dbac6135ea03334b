namespace SelfAttention.Cli.Heatmap;

/// <summary>
/// The viridis colour map (dark purple → blue → green → yellow): perceptually uniform, sequential, readable in grey
/// scale and by most colour-blind readers.
/// </summary>
/// <remarks>
/// The anchors are entries 0, 16, 32, …, 240 and 255 of the 256-entry table <c>_viridis_data</c> in matplotlib's
/// <c>lib/matplotlib/_cm_listed.py</c> (viridis by Nathaniel J. Smith, Stéfan van der Walt and Eric Firing, released
/// as CC0); each anchor sits at <c>t = entry / 255</c>. Between anchors the colour is interpolated linearly in sRGB, which is also what the SVG
/// colour bar's <c>linearGradient</c> does with the same stops, so the bar and the cells agree exactly. The result
/// stays within about 2/255 per channel of the full table, and 5/255 in blue near the yellow end, where the table's
/// blue dips between the last two anchors: not a visible difference.
/// </remarks>
internal static class Viridis
{
    // (index in the 256-entry table, r, g, b) with channels in [0, 1].
    private static readonly (int Index, double R, double G, double B)[] Anchors =
    [
        (0, 0.267004, 0.004874, 0.329415),
        (16, 0.282327, 0.094955, 0.417331),
        (32, 0.278826, 0.175490, 0.483397),
        (48, 0.258965, 0.251537, 0.524736),
        (64, 0.229739, 0.322361, 0.545706),
        (80, 0.199430, 0.387607, 0.554642),
        (96, 0.172719, 0.448791, 0.557885),
        (112, 0.149039, 0.508051, 0.557250),
        (128, 0.127568, 0.566949, 0.550556),
        (144, 0.120638, 0.625828, 0.533488),
        (160, 0.157851, 0.683765, 0.501686),
        (176, 0.246070, 0.738910, 0.452024),
        (192, 0.369214, 0.788888, 0.382914),
        (208, 0.515992, 0.831158, 0.294279),
        (224, 0.678489, 0.863742, 0.189503),
        (240, 0.845561, 0.887322, 0.099702),
        (255, 0.993248, 0.906157, 0.143936),
    ];

    /// <summary>The number of anchors, for the colour bar's gradient stops.</summary>
    public static int AnchorCount => Anchors.Length;

    /// <summary>The position in [0, 1] of anchor <paramref name="k"/>.</summary>
    public static double AnchorPosition(int k) => Anchors[k].Index / 255.0;

    /// <summary>The colour at <paramref name="t"/>, clamped to [0, 1]; NaN maps to 0 (callers draw NaN apart).</summary>
    public static Rgb At(double t)
    {
        if (!(t > 0))
        {
            t = 0;
        }
        else if (t > 1)
        {
            t = 1;
        }

        double position = t * 255;
        int k = 0;
        while (k < Anchors.Length - 2 && position > Anchors[k + 1].Index)
        {
            k++;
        }

        var (i0, r0, g0, b0) = Anchors[k];
        var (i1, r1, g1, b1) = Anchors[k + 1];
        double f = (position - i0) / (i1 - i0);
        return new Rgb(Channel(r0 + ((r1 - r0) * f)), Channel(g0 + ((g1 - g0) * f)), Channel(b0 + ((b1 - b0) * f)));
    }

    private static byte Channel(double c) => (byte)Math.Clamp(Math.Round(c * 255, MidpointRounding.AwayFromZero), 0, 255);
}
