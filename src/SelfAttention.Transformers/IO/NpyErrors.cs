using System.Globalization;
using System.Text;

namespace SelfAttention.IO;

/// <summary>
/// One factory per way a <c>.npy</c> file can be unreadable. Each message is one line: what is wrong, then what was
/// expected and what was found. Callers <c>throw</c> the result, so the compiler sees the throw.
/// </summary>
internal static class NpyErrors
{
    private const string Supported = "expected '<f4' (float32) or '<f8' (float64)";

    public static NpyFormatException EmptyStream() =>
        new("The stream is empty: expected a .npy file, which starts with the magic string \\x93NUMPY.");

    public static NpyFormatException BadMagic(ReadOnlySpan<byte> found)
    {
        string hint = found.StartsWith("PK"u8) ? " (a zip archive, such as an .npz: extract the .npy arrays from it first)" : "";
        return new($"Not a .npy file: expected the magic string \\x93NUMPY (93 4E 55 4D 50 59), found {BitConverter.ToString(found.ToArray()).Replace('-', ' ')}{hint}.");
    }

    public static NpyFormatException TruncatedPrefix(string what, int expected, int found) =>
        new(Invariant($"The .npy header is truncated: expected {expected} bytes of {what}, found {found}."));

    public static NpyFormatException UnsupportedVersion(byte major, byte minor) =>
        new(Invariant($"Unsupported .npy format version {major}.{minor}: expected 1.0, 2.0 or 3.0."));

    public static NpyFormatException HeaderTooLong(long length) =>
        new(Invariant($"The .npy header length field is too large: expected at most {Npy.MaxHeaderLength} bytes (numpy's default max_header_size), found {length}."));

    public static NpyFormatException TruncatedHeader(long length, long found) =>
        new(Invariant($"The .npy header is truncated: expected {length} header bytes (from the header length field), found {found}."));

    public static NpyFormatException HeaderNotUtf8(Exception inner) =>
        new("The .npy header is not valid UTF-8: expected UTF-8 text in a version 3.0 file.", inner);

    public static NpyFormatException MalformedHeader(string text, int position, string what) =>
        new(Invariant($"Malformed .npy header: {Escape(what)} at offset {position} of the header {Excerpt(text, position)}."));

    public static NpyFormatException MissingKeys(IEnumerable<string> missing) =>
        new($"The .npy header is missing {string.Join(" and ", missing.Select(key => $"'{key}'"))}: expected the keys 'descr', 'fortran_order' and 'shape'.");

    public static NpyFormatException UnexpectedKey(string key) =>
        new($"The .npy header has an unexpected key '{Clip(key)}': expected exactly the keys 'descr', 'fortran_order' and 'shape'.");

    public static NpyFormatException BigEndian(string descr) =>
        new($"Unsupported dtype '{Clip(descr)}': big-endian data is not supported; {Supported} (convert with arr.astype('<f4')).");

    public static NpyFormatException UnsupportedDtype(string descr) =>
        new($"Unsupported dtype '{Clip(descr)}': {Supported} (convert with arr.astype(np.float32)).");

    public static NpyFormatException StructuredDtype(string source) =>
        new($"Unsupported dtype {Clip(source)}: structured and subarray dtypes are not supported; {Supported}.");

    public static NpyFormatException BadDescr(string source) =>
        new($"The .npy header's 'descr' is not a dtype: {Supported}, found {Clip(source)}.");

    public static NpyFormatException FortranOrder() =>
        new("Fortran-ordered arrays are not supported: expected 'fortran_order': False, found True; save with np.ascontiguousarray(arr).");

    public static NpyFormatException BadFortranOrder(string source) =>
        new($"The .npy header's 'fortran_order' is not a bool: expected False, found {Clip(source)}.");

    public static NpyFormatException BadShape(string source) =>
        new($"The .npy header's 'shape' is not a tuple of integers: expected a tuple such as () or (5,) or (2, 3), found {Clip(source)}.");

    public static NpyFormatException TooManyDimensions(string shape, int rank) =>
        new(Invariant($"The shape {Clip(shape)} has too many dimensions: expected at most {Npy.MaxRank} (numpy's limit), found {rank}."));

    public static NpyFormatException NegativeDimension(string dimension, string shape) =>
        new($"The shape {Clip(shape)} has a negative dimension: expected at least 0, found {Clip(dimension)}.");

    public static NpyFormatException DimensionTooLarge(string dimension, string shape) =>
        new(Invariant($"The shape {Clip(shape)} has a dimension that is too large: expected at most {int.MaxValue}, found {Clip(dimension)}."));

    public static NpyFormatException TooManyElements(string shape, string count) =>
        new(Invariant($"The shape {Clip(shape)} has too many elements: expected at most {Array.MaxLength} (the largest .NET array), found {count}."));

    public static NpyFormatException TruncatedData(long expected, string shape, string descr, long found) =>
        new(Invariant($"The .npy data is truncated: expected {expected} bytes for shape {shape} {descr}, found {found}."));

    /// <summary>The header on one line, escaped and trimmed of its padding; long headers shortened around <paramref name="position"/>.</summary>
    private static string Excerpt(string text, int position)
    {
        const int Radius = 60;
        string trimmed = text.TrimEnd(' ', '\n', '\r', '\t', '\f');
        if (trimmed.Length <= 2 * Radius)
        {
            return Escape(trimmed);
        }

        int start = Math.Clamp(position - Radius, 0, trimmed.Length);
        int end = Math.Clamp(position + Radius, start, trimmed.Length);
        return $"{(start > 0 ? "…" : "")}{Escape(trimmed[start..end])}{(end < trimmed.Length ? "…" : "")}";
    }

    /// <summary>
    /// Header text for a message: escaped (<see cref="Escape"/>) and, beyond <paramref name="limit"/> characters, cut
    /// short with its length, so a message stays one short line whatever the header holds.
    /// </summary>
    internal static string Clip(string text, int limit = 80)
    {
        string escaped = Escape(text);
        if (escaped.Length <= limit)
        {
            return escaped;
        }

        int end = char.IsHighSurrogate(escaped[limit - 1]) ? limit - 1 : limit;
        return Invariant($"{escaped[..end]}… ({text.Length} characters)");
    }

    /// <summary>Control characters as Python escapes (<c>\n</c>, <c>\x00</c>), so a message stays on one line.</summary>
    internal static string Escape(string text)
    {
        if (!text.Any(char.IsControl))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            _ = c switch
            {
                '\n' => builder.Append("\\n"),
                '\r' => builder.Append("\\r"),
                '\t' => builder.Append("\\t"),
                _ when char.IsControl(c) => builder.Append(Invariant($"\\x{(int)c:x2}")),
                _ => builder.Append(c),
            };
        }

        return builder.ToString();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
