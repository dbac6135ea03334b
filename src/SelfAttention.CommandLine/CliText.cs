using System.Globalization;
using System.Text;

namespace SelfAttention.CommandLine;

/// <summary>
/// Text the tool echoes back from the user (file names, option values) and the lines it prints on stderr: every
/// message is one line of bounded length, whatever the user typed. Control characters and line or paragraph
/// separators are escaped (<c>\n</c>, <c>\t</c>, <c>\u2028</c>), as are the bidirectional overrides that could make
/// a line read differently from its bytes; text longer than the limit keeps its start and its end (a path's file
/// name) around a "…".
/// </summary>
public static class CliText
{
    /// <summary>The longest echo of one user value, in characters after escaping.</summary>
    public const int MaxEcho = 200;

    /// <summary>The longest line the tool prints on stderr, in characters.</summary>
    public const int MaxLine = 1000;

    private const string Ellipsis = "…";

    /// <summary><paramref name="value"/> as it may appear inside a message: escaped, at most <paramref name="max"/> characters.</summary>
    public static string Echo(string? value, int max = MaxEcho)
    {
        if (value is null)
        {
            return "";
        }

        string escaped = Escape(value);
        return escaped.Length <= max ? escaped : Shorten(escaped, max);
    }

    /// <summary><paramref name="message"/> as one line of at most <see cref="MaxLine"/> characters.</summary>
    public static string OneLine(string message) => Echo(message, MaxLine);

    /// <summary>Writes <paramref name="message"/> to <paramref name="writer"/> as exactly one bounded line.</summary>
    public static void WriteLine(TextWriter writer, string message) => writer.WriteLine(OneLine(message));

    private static string Escape(string value)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            string? replacement = c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) || IsInvisibleBreakOrOverride(c) => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ when char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]) => null,
                _ when char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(value[i - 1]) => null,
                _ when char.IsSurrogate(c) => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => null,
            };

            if (replacement is null)
            {
                sb?.Append(c);
                continue;
            }

            sb ??= new StringBuilder(value.Length + 16).Append(value, 0, i);
            sb.Append(replacement);
        }

        return sb?.ToString() ?? value;
    }

    // U+2028/U+2029 end a line in some terminals and editors; the bidi embeddings, overrides and isolates reorder
    // what follows them on screen.
    private static bool IsInvisibleBreakOrOverride(char c) =>
        c is '\u2028' or '\u2029' or '\u200e' or '\u200f' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069');

    // The first and last parts of an already escaped text, never splitting a surrogate pair or an escape sequence
    // in two (an escape is at most six characters, so cutting at a backslash that starts one is enough to avoid).
    private static string Shorten(string escaped, int max)
    {
        int keep = Math.Max(2, max - Ellipsis.Length);
        int head = AdjustCut(escaped, keep / 2, forward: false);
        int tail = AdjustCut(escaped, escaped.Length - (keep - (keep / 2)), forward: true);
        return string.Concat(escaped.AsSpan(0, head), Ellipsis, escaped.AsSpan(tail));
    }

    // Moves a cut at `index` so it splits neither a surrogate pair nor a "\n" / "\u0000" escape: backwards for the end
    // of the head, forwards for the start of the tail.
    private static int AdjustCut(string text, int index, bool forward)
    {
        index = Math.Clamp(index, 0, text.Length);
        for (int back = 1; back <= 5 && index - back >= 0; back++)
        {
            if (text[index - back] != '\\')
            {
                continue;
            }

            int length = index - back + 1 < text.Length && text[index - back + 1] == 'u' ? 6 : 2;
            if (index - back + length > index)
            {
                index = forward ? index - back + length : index - back;
            }

            break;
        }

        if (index > 0 && index < text.Length && char.IsHighSurrogate(text[index - 1]) && char.IsLowSurrogate(text[index]))
        {
            index += forward ? 1 : -1;
        }

        return Math.Clamp(index, 0, text.Length);
    }
}
