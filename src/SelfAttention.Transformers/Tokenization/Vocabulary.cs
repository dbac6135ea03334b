using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace SelfAttention.Tokenization;

/// <summary>
/// A fixed map between tokens and ids <c>0 … Count − 1</c>, with one reserved unknown token for everything else.
/// Tokens compare ordinally (case-sensitive, culture-independent); lowercasing is the tokenizer's job. Immutable, so
/// safe to share between threads.
/// </summary>
public sealed class Vocabulary
{
    /// <summary>The unknown token used when none is given.</summary>
    public const string DefaultUnknownToken = "[UNK]";

    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _spanIds;

    /// <summary>
    /// Creates a vocabulary whose ids follow the order of <paramref name="tokens"/>. When <paramref name="unknownToken"/>
    /// is not among them it is added in front, as id 0, and the listed tokens take ids 1, 2, …; when it is, it keeps its
    /// position.
    /// </summary>
    /// <param name="tokens">The tokens in id order; distinct and not null.</param>
    /// <param name="unknownToken">The token that stands for every token not in the vocabulary; not null or empty.</param>
    /// <exception cref="ArgumentNullException"><paramref name="tokens"/> or <paramref name="unknownToken"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="tokens"/> holds a null or a duplicate, or <paramref name="unknownToken"/> is empty.</exception>
    public Vocabulary(IEnumerable<string> tokens, string unknownToken = DefaultUnknownToken)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(unknownToken);
        if (unknownToken.Length == 0)
        {
            throw new ArgumentException("unknownToken: expected a non-empty token, actual an empty string.", nameof(unknownToken));
        }

        var list = new List<string>();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        int index = 0;
        foreach (string token in tokens)
        {
            if (token is null)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"tokens[{index}]: expected a token, actual null."), nameof(tokens));
            }

            if (!ids.TryAdd(token, list.Count))
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"tokens[{index}] repeats tokens[{ids[token]}]: expected distinct tokens, actual \"{token}\" twice."), nameof(tokens));
            }

            list.Add(token);
            index++;
        }

        if (ids.TryGetValue(unknownToken, out int unknownId))
        {
            _tokens = [.. list];
            _ids = ids;
        }
        else
        {
            unknownId = 0;
            _tokens = [unknownToken, .. list];
            _ids = new Dictionary<string, int>(_tokens.Length, StringComparer.Ordinal);
            for (int id = 0; id < _tokens.Length; id++)
            {
                _ids.Add(_tokens[id], id);
            }
        }

        UnknownId = unknownId;
        UnknownToken = unknownToken;
        _spanIds = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>
    /// Builds a vocabulary from a corpus: the unknown token <see cref="DefaultUnknownToken"/> as id 0, then every token
    /// that occurs at least <paramref name="minCount"/> times, in order of first appearance (texts in order, tokens
    /// left to right). The same texts and tokenizer always give the same ids.
    /// </summary>
    /// <param name="texts">The corpus; no null texts.</param>
    /// <param name="tokenizer">Splits each text into tokens.</param>
    /// <param name="minCount">How often a token must occur to get its own id; at least 1. Rarer tokens map to the unknown id.</param>
    /// <returns>The vocabulary.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="texts"/> or <paramref name="tokenizer"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="texts"/> holds a null, or <paramref name="minCount"/> is less than 1.</exception>
    public static Vocabulary Build(IEnumerable<string> texts, WordTokenizer tokenizer, int minCount = 1)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (minCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(minCount), minCount,
                string.Create(CultureInfo.InvariantCulture, $"minCount: expected at least 1, actual {minCount}."));
        }

        var order = new List<string>();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        int index = 0;
        foreach (string text in texts)
        {
            if (text is null)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"texts[{index}]: expected a text, actual null."), nameof(texts));
            }

            foreach (string token in tokenizer.Split(text))
            {
                if (counts.TryGetValue(token, out int count))
                {
                    counts[token] = count + 1;
                }
                else
                {
                    counts.Add(token, 1);
                    order.Add(token);
                }
            }

            index++;
        }

        var kept = new List<string>(order.Count);
        foreach (string token in order)
        {
            if (counts[token] >= minCount && token != DefaultUnknownToken)
            {
                kept.Add(token);
            }
        }

        return new Vocabulary(kept);
    }

    /// <summary>The number of ids, the unknown token included.</summary>
    public int Count => _tokens.Length;

    /// <summary>The id of <see cref="UnknownToken"/>, returned by <see cref="GetId(string)"/> for any token not in the vocabulary.</summary>
    public int UnknownId { get; }

    /// <summary>The token that stands for every token not in the vocabulary.</summary>
    public string UnknownToken { get; }

    /// <summary>The id of <paramref name="token"/>, or <see cref="UnknownId"/> when it is not in the vocabulary.</summary>
    /// <param name="token">The token, compared ordinally.</param>
    /// <returns>An id in <c>[0, Count)</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="token"/> is null.</exception>
    public int GetId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _ids.TryGetValue(token, out int id) ? id : UnknownId;
    }

    /// <summary>Looks up <paramref name="token"/> without falling back to the unknown id.</summary>
    /// <param name="token">The token, compared ordinally.</param>
    /// <param name="id">Its id when found (the unknown token itself is found); otherwise <see cref="UnknownId"/>.</param>
    /// <returns>Whether the token is in the vocabulary.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="token"/> is null.</exception>
    public bool TryGetId(string token, out int id)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (_ids.TryGetValue(token, out id))
        {
            return true;
        }

        id = UnknownId;
        return false;
    }

    /// <summary>The token with id <paramref name="id"/>.</summary>
    /// <param name="id">An id in <c>[0, Count)</c>.</param>
    /// <returns>The token.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> is negative or not less than <see cref="Count"/>.</exception>
    public string GetToken(int id)
    {
        if ((uint)id >= (uint)_tokens.Length)
        {
            ThrowBadId(id, _tokens.Length);
        }

        return _tokens[id];
    }

    /// <summary>The id of a token given as characters, or <see cref="UnknownId"/>; allocation-free.</summary>
    internal int GetId(ReadOnlySpan<char> token) => _spanIds.TryGetValue(token, out int id) ? id : UnknownId;

    [DoesNotReturn]
    private static void ThrowBadId(int id, int count) =>
        throw new ArgumentOutOfRangeException(nameof(id), id,
            string.Create(CultureInfo.InvariantCulture, $"id: expected 0 to {count - 1}, actual {id}."));
}
