using System.Buffers;
using System.Globalization;
using System.Text;

namespace SelfAttention.Tokenization;

/// <summary>
/// A simple word-level tokenizer for examples and small experiments: whitespace separates tokens, a word is a run of
/// letters, digits, combining marks and apostrophes (<c>'</c> and <c>’</c>), and every other non-whitespace character
/// (punctuation, symbols, emoji) is a token of its own. "Dream big, and work for it!" gives
/// <c>dream | big | , | and | work | for | it | !</c>; "don't" stays one word; "3.14" gives <c>3 | . | 14</c>.
/// </summary>
/// <remarks>
/// This is <b>not</b> a subword tokenizer: there is no BPE, WordPiece, SentencePiece or byte-level fallback, so a word
/// missing from the vocabulary becomes the unknown id, and it cannot load or reproduce Hugging Face tokenizers
/// (<c>tokenizer.json</c>) or the ids of any pretrained model. Characters are read as Unicode scalar values (a surrogate
/// pair is one character); lowercasing uses the invariant culture. Immutable, so safe to share between threads.
/// </remarks>
public sealed class WordTokenizer
{
    // Tokens up to this many chars are lowercased on the stack during Encode; longer ones use a pooled buffer.
    private const int StackTokenLength = 128;

    /// <summary>Creates a tokenizer.</summary>
    /// <param name="lowercase">Whether tokens are lowercased (invariant culture), so "Bears" and "bears" are one token.</param>
    public WordTokenizer(bool lowercase = true)
    {
        Lowercase = lowercase;
    }

    /// <summary>Whether tokens are lowercased.</summary>
    public bool Lowercase { get; }

    /// <summary>Splits <paramref name="text"/> into tokens, in order.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The tokens; empty for an empty or all-whitespace text.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public IReadOnlyList<string> Split(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<string>();
        int position = 0;
        while (NextToken(text, ref position, out int start, out int length))
        {
            string token = text.Substring(start, length);
            tokens.Add(Lowercase ? token.ToLowerInvariant() : token);
        }

        return tokens;
    }

    /// <summary>
    /// Writes the id of every token of <paramref name="text"/> to <paramref name="ids"/>, unknown tokens as
    /// <see cref="Vocabulary.UnknownId"/>. Allocation-free (tokens longer than 128 chars borrow a pooled buffer).
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="vocabulary">Maps tokens to ids.</param>
    /// <param name="ids">Receives the ids; at least as long as the token count. Elements past the count are not written.</param>
    /// <returns>The number of tokens, that is of ids written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> or <paramref name="vocabulary"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="ids"/> is shorter than the token count; nothing is written.</exception>
    public int Encode(string text, Vocabulary vocabulary, Span<int> ids)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(vocabulary);

        int count = 0;
        for (int position = 0; NextToken(text, ref position, out _, out _);)
        {
            count++;
        }

        if (ids.Length < count)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"ids is too short for the tokens of text: expected at least {count}, actual {ids.Length}."), nameof(ids));
        }

        Span<char> stackBuffer = stackalloc char[StackTokenLength];
        int index = 0;
        for (int position = 0; NextToken(text, ref position, out int start, out int length);)
        {
            ReadOnlySpan<char> token = text.AsSpan(start, length);
            if (!Lowercase)
            {
                ids[index++] = vocabulary.GetId(token);
            }
            else if (length <= StackTokenLength)
            {
                int written = token.ToLowerInvariant(stackBuffer);
                ids[index++] = vocabulary.GetId(stackBuffer[..written]);
            }
            else
            {
                char[] rented = ArrayPool<char>.Shared.Rent(length);
                try
                {
                    int written = token.ToLowerInvariant(rented);
                    ids[index++] = vocabulary.GetId(rented.AsSpan(0, written));
                }
                finally
                {
                    ArrayPool<char>.Shared.Return(rented);
                }
            }
        }

        return count;
    }

    /// <summary>The ids of the tokens of <paramref name="text"/>, unknown tokens as <see cref="Vocabulary.UnknownId"/>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="vocabulary">Maps tokens to ids.</param>
    /// <returns>One id per token.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> or <paramref name="vocabulary"/> is null.</exception>
    public int[] Encode(string text, Vocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(vocabulary);
        int count = 0;
        for (int position = 0; NextToken(text, ref position, out _, out _);)
        {
            count++;
        }

        var ids = new int[count];
        Encode(text, vocabulary, ids);
        return ids;
    }

    /// <summary>
    /// Finds the next token at or after <paramref name="position"/>: skips whitespace, then takes one word (a run of word
    /// characters) or one other character. Advances <paramref name="position"/> past it.
    /// </summary>
    private static bool NextToken(ReadOnlySpan<char> text, ref int position, out int start, out int length)
    {
        Rune rune;
        int consumed;
        while (position < text.Length)
        {
            Rune.DecodeFromUtf16(text[position..], out rune, out consumed);
            if (!Rune.IsWhiteSpace(rune))
            {
                break;
            }

            position += consumed;
        }

        start = position;
        if (position >= text.Length)
        {
            length = 0;
            return false;
        }

        // A lone surrogate decodes as U+FFFD with consumed = 1 and becomes a one-char token.
        Rune.DecodeFromUtf16(text[position..], out rune, out consumed);
        position += consumed;
        if (IsWordCharacter(rune))
        {
            while (position < text.Length)
            {
                Rune.DecodeFromUtf16(text[position..], out rune, out consumed);
                if (!IsWordCharacter(rune))
                {
                    break;
                }

                position += consumed;
            }
        }

        length = position - start;
        return true;
    }

    private static bool IsWordCharacter(Rune rune)
    {
        if (Rune.IsLetterOrDigit(rune) || rune.Value is '\'' or '\u2019')
        {
            return true;
        }

        // Combining marks keep a decomposed "é" (e + U+0301) in its word.
        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;
    }
}
