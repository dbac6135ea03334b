using System.Globalization;

namespace SelfAttention.Cli.Heatmap;

/// <summary>An sRGB colour with 8-bit channels.</summary>
internal readonly record struct Rgb(byte R, byte G, byte B)
{
    /// <summary>The colour as <c>#rrggbb</c>.</summary>
    public string Hex => string.Create(CultureInfo.InvariantCulture, $"#{R:x2}{G:x2}{B:x2}");

    /// <summary>WCAG relative luminance: the sRGB channels linearised, weighted 0.2126, 0.7152, 0.0722.</summary>
    public double RelativeLuminance => (0.2126 * Linear(R)) + (0.7152 * Linear(G)) + (0.0722 * Linear(B));

    /// <summary>
    /// Black or white, whichever contrasts more with this colour (WCAG contrast ratio: (L1 + 0.05) / (L2 + 0.05));
    /// the two are equal at a luminance of about 0.18.
    /// </summary>
    public Rgb ContrastingText => (RelativeLuminance + 0.05) / 0.05 >= 1.05 / (RelativeLuminance + 0.05)
        ? new Rgb(0, 0, 0)
        : new Rgb(255, 255, 255);

    /// <summary>
    /// <see cref="Hex"/>. The record's generated text would print <see cref="ContrastingText"/>, an <see cref="Rgb"/>
    /// whose text prints its own, without end: a failed assertion on two colours overflowed the stack.
    /// </summary>
    public override string ToString() => Hex;

    private static double Linear(byte channel)
    {
        double c = channel / 255.0;
        return c <= 0.04045 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
    }
}
