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
/// One parsed Python literal. It keeps its offsets in the header instead of a copy of its text, so that parsing costs
/// memory in proportion to the header however deeply its literals nest; <see cref="Source"/> is cut out on demand, for
/// messages.
/// </summary>
internal sealed class PythonValue(PythonKind kind, string value, string text, int start, int end, IReadOnlyList<PythonValue>? items = null)
{
    public PythonKind Kind { get; } = kind;

    /// <summary>String: the decoded text. Integer: sign and digits, without an <c>L</c> suffix. Boolean, None: the name.</summary>
    public string Value { get; } = value;

    /// <summary>The literal as written in the header.</summary>
    public string Source => text[start..end];

    /// <summary>The elements of a tuple or list; empty otherwise.</summary>
    public IReadOnlyList<PythonValue> Items { get; } = items ?? [];
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

    private sealed class Parser(string text)
    {
        private int _position;

        // Brackets open around _position, the dict's braces included.
        private int _depth;

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

                SkipWhitespace();
                if (!TryConsume(':'))
                {
                    Missing($"expected ':' after the key '{NpyErrors.Clip(key.Value)}'");
                }

                PythonValue value = ParseValue();
                if (!entries.TryAdd(key.Value, value))
                {
                    Fail(keyStart, $"the key '{NpyErrors.Clip(key.Value)}' appears twice");
                }

                SkipWhitespace();
                if (TryConsume('}'))
                {
                    break;
                }

                if (!TryConsume(','))
                {
                    Missing($"expected ',' or '}}' after the value of '{NpyErrors.Clip(key.Value)}'");
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
                    return ParseString(start);
                case '(':
                    return ParseSequence(start, ')', PythonKind.Tuple);
                case '[':
                    return ParseSequence(start, ']', PythonKind.List);
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

            string name = text[start.._position];
            if (name is "u" or "U" && _position < text.Length && text[_position] is '\'' or '"')
            {
                PythonValue unprefixed = ParseString(_position);
                return new PythonValue(PythonKind.String, unprefixed.Value, text, start, _position);
            }

            return name switch
            {
                "True" or "False" => new PythonValue(PythonKind.Boolean, name, text, start, _position),
                "None" => new PythonValue(PythonKind.None, name, text, start, _position),
                _ => Fail<PythonValue>(start, $"unexpected name '{NpyErrors.Clip(name)}'"),
            };
        }

        /// <summary>A tuple or list; a parenthesised single value without a comma is that value, as in Python.</summary>
        private PythonValue ParseSequence(int start, char close, PythonKind kind)
        {
            if (_depth == MaxDepth)
            {
                Fail(start, string.Create(CultureInfo.InvariantCulture, $"brackets nested deeper than {MaxDepth} levels"));
            }

            _depth++;
            _position++;
            var items = new List<PythonValue>();
            bool sawComma = false;
            while (true)
            {
                SkipWhitespace();
                if (TryConsume(close))
                {
                    break;
                }

                items.Add(ParseValue());
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
            if (kind == PythonKind.Tuple && items.Count == 1 && !sawComma)
            {
                return items[0];
            }

            return new PythonValue(kind, "", text, start, _position, items);
        }

        private PythonValue ParseInteger(int start)
        {
            bool negative = text[_position] == '-';
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

            ReadOnlySpan<char> digits = text.AsSpan(digitsStart, _position - digitsStart);

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

            return new PythonValue(PythonKind.Integer, negative ? string.Concat("-", digits) : digits.ToString(), text, start, _position);
        }

        private PythonValue ParseString(int start)
        {
            char quote = text[_position++];
            var value = new StringBuilder();
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
                    value.Append(c);
                    continue;
                }

                char escaped = text[_position++];
                switch (escaped)
                {
                    case '\\' or '\'' or '"':
                        value.Append(escaped);
                        break;
                    case 'n':
                        value.Append('\n');
                        break;
                    case 'r':
                        value.Append('\r');
                        break;
                    case 't':
                        value.Append('\t');
                        break;
                    case 'x' or 'u' when TryHex(escaped == 'x' ? 2 : 4, out char decoded):
                        value.Append(decoded);
                        break;
                    default:
                        // Python keeps an unknown escape as written.
                        value.Append('\\').Append(escaped);
                        break;
                }
            }

            return new PythonValue(PythonKind.String, value.ToString(), text, start, _position);
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
