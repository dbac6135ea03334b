using System.Globalization;
using System.Text;

namespace SelfAttention.Cli.Heatmap;

/// <summary>
/// Text for the SVG writer: XML escaping, compact invariant numbers, shortened labels and width estimates
/// (there are no font metrics at render time, so layout budgets per character).
/// </summary>
internal static class SvgText
{
    /// <summary>Labels longer than this many characters are cut and end in "…" (tooltips keep the full text).</summary>
    public const int MaxLabelLength = 16;

    /// <summary>
    /// <paramref name="text"/> as XML character data, safe in element content and in double- or single-quoted attributes.
    /// XML 1.0 cannot carry most control characters even as references, so U+0000–U+001F and U+007F become their
    /// visible Control Pictures (a newline token shows as ␊); lone surrogates and U+FFFE/U+FFFF become U+FFFD.
    /// </summary>
    public static string Escape(string text)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            string? replacement = c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&apos;",
                < ' ' => ((char)(0x2400 + c)).ToString(),
                '\u007f' => "\u2421",
                '\ufffe' or '\uffff' => "\ufffd",
                _ => null,
            };

            if (replacement is null && char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    sb?.Append(c).Append(text[i + 1]);
                    i++;
                    continue;
                }

                replacement = "\ufffd";
            }

            if (replacement is null)
            {
                sb?.Append(c);
                continue;
            }

            sb ??= new StringBuilder(text.Length + 16).Append(text, 0, i);
            sb.Append(replacement);
        }

        return sb?.ToString() ?? text;
    }

    /// <summary>
    /// A coordinate or length rounded to 0.01 px, shortest invariant form ("12", "12.5", never "12,5" or "-0").
    /// Use it as an interpolation hole in a string formatted with <see cref="CultureInfo.InvariantCulture"/>.
    /// </summary>
    public static double Px(double value) => Math.Round(value, 2, MidpointRounding.AwayFromZero) + 0.0;

    /// <summary>A number for a tooltip: four significant digits, invariant ("0.4123", "NaN", "-Infinity").</summary>
    public static string TooltipValue(float value) => (value + 0f).ToString("G4", CultureInfo.InvariantCulture);

    /// <summary>A number inside a cell: two decimals while they fit ("0.41", "-0.25", "1.00"), else three significant digits.</summary>
    public static string CellValue(float value) =>
        float.IsNaN(value) ? "NaN"
        : float.IsInfinity(value) ? (value > 0 ? "∞" : "-∞")
        : Math.Abs(value) < 9.995f ? (Math.Round(value, 2, MidpointRounding.AwayFromZero) + 0.0).ToString("0.00", CultureInfo.InvariantCulture)
        : value.ToString("G3", CultureInfo.InvariantCulture);

    /// <summary><paramref name="label"/> cut to <see cref="MaxLabelLength"/> characters (whole code points), ending in "…".</summary>
    public static string Shorten(string label)
    {
        int count = 0;
        foreach (Rune _ in label.EnumerateRunes())
        {
            count++;
        }

        if (count <= MaxLabelLength)
        {
            return label;
        }

        var sb = new StringBuilder();
        int kept = 0;
        foreach (Rune rune in label.EnumerateRunes())
        {
            if (kept++ == MaxLabelLength - 1)
            {
                break;
            }

            sb.Append(rune.ToString());
        }

        return sb.Append('…').ToString();
    }

    /// <summary>
    /// An estimate of the drawn width of <paramref name="text"/> at <paramref name="fontSize"/> in a sans-serif font:
    /// 0.6 em per narrow character, 0.7 em per capital, 1 em per East Asian wide character or emoji.
    /// A little generous on purpose: overestimates cost margin, underestimates clip labels.
    /// </summary>
    public static double EstimateWidth(string text, double fontSize)
    {
        double em = 0;
        foreach (Rune rune in text.EnumerateRunes())
        {
            int v = rune.Value;
            em += IsWide(v) ? 1.0 : v is >= 'A' and <= 'Z' or 'm' or 'w' or 'M' or 'W' or '@' ? 0.72 : 0.6;
        }

        return em * fontSize;
    }

    private static bool IsWide(int v) =>
        v is (>= 0x1100 and <= 0x115f) or (>= 0x2e80 and <= 0xa4cf) or (>= 0xac00 and <= 0xd7a3)
            or (>= 0xf900 and <= 0xfaff) or (>= 0xfe30 and <= 0xfe4f) or (>= 0xff00 and <= 0xff60)
            or (>= 0xffe0 and <= 0xffe6) or (>= 0x1f300 and <= 0x1faff) or (>= 0x20000 and <= 0x3fffd);
}
