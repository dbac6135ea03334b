using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace SelfAttention.IO;

/// <summary>The kinds of Python literal a <c>.npy</c> header holds.</summary>
internal enum PythonKind
{
    String,
    Integer,
    Boolean,
    None,
    Tuple,
    List,
}

/// <summary>
/// One parsed Python literal: what it is and where it stands in the header, not a tree. Parsing allocates nothing per
/// value, however many tokens or levels the header holds: <see cref="Value"/>, <see cref="Source"/> and
/// <see cref="Digits"/> are cut from the header when read, and the elements of a sequence are parsed again by
/// <see cref="PythonLiteral.Items"/> when a caller wants them.
/// </summary>
internal readonly struct PythonValue(PythonKind kind, string text, int start, int end, string? name = null, int count = 0, bool allIntegers = false)
{
    public PythonKind Kind { get; } = kind;

    /// <summary>String: the decoded text (decoded on each call). Boolean, None: the name. Otherwise empty.</summary>
    public string Value => Kind == PythonKind.String ? PythonLiteral.Decode(this) : name ?? "";

    /// <summary>Tuple or list: how many elements it has.</summary>
    public int Count { get; } = count;

    /// <summary>Tuple or list: every element is an integer (a parenthesised integer such as <c>(5)</c> counts).</summary>
    public bool AllIntegers { get; } = allIntegers;

    internal string Text { get; } = text;

    internal int Start { get; } = start;

    internal int End { get; } = end;

    /// <summary>The literal as written in the header.</summary>
    public string Source => Text[Start..End];

    /// <summary>Integer: the sign (if negative) and the digits, without whitespace after the sign or an <c>L</c> suffix.</summary>
    public string Digits
    {
        get
        {
            ReadOnlySpan<char> literal = Text.AsSpan(Start, End - Start).TrimEnd("Ll");
            bool negative = literal[0] == '-';
            ReadOnlySpan<char> digits = literal.TrimStart("+- \t\n\r\f");
            return negative ? string.Concat("-", digits) : digits.ToString();
        }
    }
}

/// <summary>
/// Parses the header of a <c>.npy</c> file: a Python dict literal, as numpy reads it with <c>ast.literal_eval</c>.
/// Accepts what numpy and older writers produce: string keys in any order, single or double quotes (with a <c>u</c>
/// prefix and backslash escapes), whitespace and newlines between tokens, a trailing comma or none, integers with an
/// optional sign and the <c>L</c> suffix of Python 2, <c>True</c>, <c>False</c>, <c>None</c>, tuples and lists
/// (descr of a structured dtype). <c>(5)</c> is the integer 5, as in Python; <c>(5,)</c> is a tuple. Anything else (floats,
/// nested dicts, expressions) is a malformed header.
/// <para>
/// Brackets may nest <see cref="MaxDepth"/> levels deep, the dict included: a header needs 2 (dict, shape tuple), a
/// structured dtype a few more. Deeper nesting is refused where it starts, so the recursion stays shallow whatever the
/// input (Python's own parser refuses 200 levels).
/// </para>
/// </summary>
internal static class PythonLiteral
{
    /// <summary>How deeply brackets may nest, counting the dict's braces as the first level.</summary>
    public const int MaxDepth = 32;

    /// <summary>The entries of the dict literal that makes up <paramref name="text"/>; whitespace may follow it.</summary>
    /// <exception cref="NpyFormatException">The text is not a dict literal, or a key is not a string or repeats.</exception>
    public static Dictionary<string, PythonValue> ParseDictionary(string text) => new Parser(text).ParseDictionary();

    /// <summary>The text of a string literal that <see cref="ParseDictionary"/> returned, escapes decoded.</summary>
    public static string Decode(PythonValue literal)
    {
        var value = new StringBuilder(literal.End - literal.Start);
        int quote = literal.Text[literal.Start] is 'u' or 'U' ? literal.Start + 1 : literal.Start;
        new Parser(literal.Text, quote).ParseString(quote, value);
        return value.ToString();
    }

    /// <summary>
    /// The elements of <paramref name="sequence"/>, a tuple or list that <see cref="ParseDictionary"/> returned (so
    /// already known to be well formed): its text parsed again, keeping the elements this time.
    /// </summary>
    public static PythonValue[] Items(PythonValue sequence)
    {
        var items = new PythonValue[sequence.Count];
        char close = sequence.Kind == PythonKind.Tuple ? ')' : ']';
        new Parser(sequence.Text, sequence.Start).ParseSequence(sequence.Start, close, sequence.Kind, items);
        return items;
    }

    private sealed class Parser(string text, int position = 0)
    {
        private int _position = position;

        // Brackets open around _position, the dict's braces included; a re-parsed sequence starts inside the dict.
        private int _depth = position == 0 ? 0 : 1;

        public Dictionary<string, PythonValue> ParseDictionary()
        {
            SkipWhitespace();
            Expect('{', "expected '{' to open the header dictionary");
            _depth = 1;
            var entries = new Dictionary<string, PythonValue>(StringComparer.Ordinal);
            while (true)
            {
                SkipWhitespace();
                if (TryConsume('}'))
                {
                    break;
                }

                int keyStart = _position;
                PythonValue key = ParseValue();
                if (key.Kind != PythonKind.String)
                {
                    Fail(keyStart, $"expected a string key, found {NpyErrors.Clip(key.Source)}");
                }

                string name = key.Value;
                SkipWhitespace();
                if (!TryConsume(':'))
                {
                    Missing($"expected ':' after the key '{NpyErrors.Clip(name)}'");
                }

                PythonValue value = ParseValue();
                if (!entries.TryAdd(name, value))
                {
                    Fail(keyStart, $"the key '{NpyErrors.Clip(name)}' appears twice");
                }

                SkipWhitespace();
                if (TryConsume('}'))
                {
                    break;
                }

                if (!TryConsume(','))
                {
                    Missing($"expected ',' or '}}' after the value of '{NpyErrors.Clip(name)}'");
                }
            }

            SkipWhitespace();
            if (_position < text.Length)
            {
                Fail(_position, "expected only padding after the closing '}'");
            }

            return entries;
        }

        private PythonValue ParseValue()
        {
            SkipWhitespace();
            if (_position == text.Length)
            {
                Fail(_position, "expected a value, found the end of the header");
            }

            int start = _position;
            char c = text[_position];
            switch (c)
            {
                case '\'' or '"':
                    ParseString(start, value: null);
                    return new PythonValue(PythonKind.String, text, start, _position);
                case '(':
                    return ParseSequence(start, ')', PythonKind.Tuple, items: null);
                case '[':
                    return ParseSequence(start, ']', PythonKind.List, items: null);
                case '+' or '-' or (>= '0' and <= '9'):
                    return ParseInteger(start);
            }

            if (!IsNameStart(c))
            {
                Fail(start, $"unexpected {Quote(c)}");
            }

            while (_position < text.Length && IsNamePart(text[_position]))
            {
                _position++;
            }

            ReadOnlySpan<char> name = text.AsSpan(start, _position - start);
            if (name is "u" or "U" && _position < text.Length && text[_position] is '\'' or '"')
            {
                ParseString(_position, value: null);
                return new PythonValue(PythonKind.String, text, start, _position);
            }

            return name switch
            {
                "True" => new PythonValue(PythonKind.Boolean, text, start, _position, "True"),
                "False" => new PythonValue(PythonKind.Boolean, text, start, _position, "False"),
                "None" => new PythonValue(PythonKind.None, text, start, _position, "None"),
                _ => Fail<PythonValue>(start, $"unexpected name '{NpyErrors.Clip(name.ToString())}'"),
            };
        }

        /// <summary>
        /// A tuple or list; a parenthesised single value without a comma is that value, as in Python. The elements are
        /// stored in <paramref name="items"/> when given (sized by an earlier parse), otherwise only counted.
        /// </summary>
        public PythonValue ParseSequence(int start, char close, PythonKind kind, PythonValue[]? items)
        {
            if (_depth == MaxDepth)
            {
                Fail(start, string.Create(CultureInfo.InvariantCulture, $"brackets nested deeper than {MaxDepth} levels"));
            }

            _depth++;
            _position++;
            int count = 0;
            bool allIntegers = true;
            PythonValue single = default;
            bool sawComma = false;
            while (true)
            {
                SkipWhitespace();
                if (TryConsume(close))
                {
                    break;
                }

                single = ParseValue();
                allIntegers &= single.Kind == PythonKind.Integer;
                if (items is not null)
                {
                    items[count] = single;
                }

                count++;
                SkipWhitespace();
                if (TryConsume(close))
                {
                    break;
                }

                if (!TryConsume(','))
                {
                    Missing($"expected ',' or '{close}'");
                }

                sawComma = true;
            }

            _depth--;
            if (kind == PythonKind.Tuple && count == 1 && !sawComma)
            {
                return single;
            }

            return new PythonValue(kind, text, start, _position, count: count, allIntegers: allIntegers);
        }

        private PythonValue ParseInteger(int start)
        {
            if (text[_position] is '+' or '-')
            {
                _position++;
                SkipWhitespace();
            }

            int digitsStart = _position;
            while (_position < text.Length && char.IsAsciiDigit(text[_position]))
            {
                _position++;
            }

            if (_position == digitsStart)
            {
                Fail(start, "expected an integer after the sign");
            }

            if (_position < text.Length && text[_position] is 'L' or 'l')
            {
                _position++;
            }

            if (_position < text.Length && (IsNamePart(text[_position]) || text[_position] == '.'))
            {
                Fail(start, "expected an integer, found a number of another kind");
            }

            return new PythonValue(PythonKind.Integer, text, start, _position);
        }

        /// <summary>
        /// Moves past the string literal at the current position, its text decoded into <paramref name="value"/> if
        /// given: parsing only checks strings, and those read are decoded later, through the same loop.
        /// </summary>
        public void ParseString(int start, StringBuilder? value)
        {
            char quote = text[_position++];
            while (true)
            {
                if (_position == text.Length || text[_position] is '\n' or '\r')
                {
                    Fail(start, "unterminated string");
                }

                char c = text[_position++];
                if (c == quote)
                {
                    break;
                }

                if (c != '\\' || _position == text.Length)
                {
                    value?.Append(c);
                    continue;
                }

                char escaped = text[_position++];
                switch (escaped)
                {
                    case '\\' or '\'' or '"':
                        value?.Append(escaped);
                        break;
                    case 'n':
                        value?.Append('\n');
                        break;
                    case 'r':
                        value?.Append('\r');
                        break;
                    case 't':
                        value?.Append('\t');
                        break;
                    case 'x' or 'u' when TryHex(escaped == 'x' ? 2 : 4, out char decoded):
                        value?.Append(decoded);
                        break;
                    default:
                        // Python keeps an unknown escape as written.
                        value?.Append('\\').Append(escaped);
                        break;
                }
            }


        }

        private bool TryHex(int length, out char decoded)
        {
            decoded = '\0';
            if (_position + length > text.Length ||
                !int.TryParse(text.AsSpan(_position, length), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
            {
                return false;
            }

            _position += length;
            decoded = (char)code;
            return true;
        }

        private void SkipWhitespace()
        {
            while (_position < text.Length && text[_position] is ' ' or '\t' or '\n' or '\r' or '\f')
            {
                _position++;
            }
        }

        private bool TryConsume(char c)
        {
            if (_position < text.Length && text[_position] == c)
            {
                _position++;
                return true;
            }

            return false;
        }

        private void Expect(char c, string what)
        {
            if (!TryConsume(c))
            {
                Missing(what);
            }
        }

        /// <summary>The character at the current position is not the one <paramref name="what"/> names.</summary>
        [DoesNotReturn]
        private void Missing(string what) =>
            Fail(_position, _position == text.Length ? $"{what}, found the end of the header" : $"{what}, found {Quote(text[_position])}");

        /// <summary>A character for a message: <c>'x'</c>, or <c>"'"</c> for a single quote.</summary>
        private static string Quote(char c) => c == '\'' ? "\"'\"" : $"'{c}'";

        private static bool IsNameStart(char c) => char.IsAsciiLetter(c) || c == '_';

        private static bool IsNamePart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

        [DoesNotReturn]
        private void Fail(int position, string what) => throw NpyErrors.MalformedHeader(text, position, what);

        [DoesNotReturn]
        private T Fail<T>(int position, string what) => throw NpyErrors.MalformedHeader(text, position, what);
    }
}
