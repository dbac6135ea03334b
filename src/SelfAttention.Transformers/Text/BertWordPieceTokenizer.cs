using System.Globalization;
using System.Text;

namespace SelfAttention.Transformers;

/// <summary>
/// BERT's WordPiece tokenizer over a <c>vocab.txt</c> (one token per line, the line number its id), with the
/// <c>[CLS] … [SEP]</c> framing a BERT encoder expects. The tokenization itself is FastBertTokenizer's (MIT), which
/// reproduces Hugging Face's <c>BertTokenizer</c>: Unicode normalisation and accent stripping, lower-casing for uncased
/// vocabularies, punctuation and CJK splitting, greedy longest-match word pieces, <c>[UNK]</c> for a word it cannot
/// split. It needs ICU (the .NET globalization data) for the normalisation, so a program using it must not set
/// <c>InvariantGlobalization</c>. Calls are serialised internally: the tokenizer is safe to share between threads.
/// </summary>
public sealed class BertWordPieceTokenizer
{
    private readonly FastBertTokenizer.BertTokenizer _tokenizer = new();
    private readonly string[] _tokens;
    private readonly Lock _lock = new();
    private long[] _ids = new long[64], _mask = new long[64];

    private BertWordPieceTokenizer(string[] tokens, bool lowercase, string path)
    {
        _tokens = tokens;
        var vocabulary = new StringBuilder();
        foreach (string token in tokens)
        {
            vocabulary.Append(token).Append('\n');
        }

        try
        {
            using var reader = new StringReader(vocabulary.ToString());
            _tokenizer.LoadVocabulary(reader, lowercase);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or KeyNotFoundException)
        {
            throw new ModelFormatException(path, $"not a BERT vocabulary ({e.Message}); expected one token per line with [PAD], [UNK], [CLS], [SEP] and [MASK].", e);
        }

        UnknownId = Array.IndexOf(tokens, "[UNK]");
        ClsId = Array.IndexOf(tokens, "[CLS]");
        SepId = Array.IndexOf(tokens, "[SEP]");
        PadId = Array.IndexOf(tokens, "[PAD]");
        IsLowercase = lowercase;
    }

    /// <summary>The longest vocabulary file read (a BERT vocabulary is about 0.25 MB).</summary>
    public const long MaxFileBytes = 64L << 20;

    /// <summary>Reads a <c>vocab.txt</c>.</summary>
    /// <param name="path">The file: UTF-8, one token per line, holding <c>[UNK]</c>, <c>[CLS]</c>, <c>[SEP]</c> and <c>[PAD]</c>.</param>
    /// <param name="lowercase">Lower-case and strip accents first (an uncased model, such as all-MiniLM-L6-v2); false for a cased one.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is too large, empty, or lacks a special token.</exception>
    public static BertWordPieceTokenizer Load(string path, bool lowercase = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path}: no such file (expected a vocab.txt).", path);
        if (info.Length > MaxFileBytes)
        {
            throw new ModelFormatException(path, string.Create(CultureInfo.InvariantCulture, $"the file has {info.Length} bytes; a vocabulary is at most {MaxFileBytes}."));
        }

        string[] tokens = File.ReadAllLines(path, new UTF8Encoding(false, true));
        foreach (string special in (ReadOnlySpan<string>)["[PAD]", "[UNK]", "[CLS]", "[SEP]"])
        {
            if (Array.IndexOf(tokens, special) < 0)
            {
                throw new ModelFormatException(path, string.Create(CultureInfo.InvariantCulture, $"no line {special} among its {tokens.Length} lines; expected a BERT vocabulary."));
            }
        }

        return new BertWordPieceTokenizer(tokens, lowercase, path);
    }

    /// <summary>Tokens in the vocabulary: ids are in <c>[0, VocabularySize)</c>.</summary>
    public int VocabularySize => _tokens.Length;

    /// <summary>Whether input is lower-cased and stripped of accents first.</summary>
    public bool IsLowercase { get; }

    /// <summary>The id of <c>[UNK]</c>.</summary>
    public int UnknownId { get; }

    /// <summary>The id of <c>[CLS]</c>, the first token of every encoding.</summary>
    public int ClsId { get; }

    /// <summary>The id of <c>[SEP]</c>, the last token of every encoding.</summary>
    public int SepId { get; }

    /// <summary>The id of <c>[PAD]</c>.</summary>
    public int PadId { get; }

    /// <summary>The token of an id, as the vocabulary spells it (word pieces that continue a word start with <c>##</c>).</summary>
    /// <param name="id">An id in <c>[0, VocabularySize)</c>.</param>
    /// <returns>The token.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The id is out of range.</exception>
    public string TokenOf(int id)
    {
        if ((uint)id >= (uint)_tokens.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, string.Create(CultureInfo.InvariantCulture, $"id: expected an id in [0, {_tokens.Length}), actual {id}."));
        }

        return _tokens[id];
    }

    /// <summary>
    /// Encodes <paramref name="text"/> as <c>[CLS] pieces… [SEP]</c> into <paramref name="ids"/>, truncating the
    /// pieces (never the framing) to fit. Allocation-free once the internal buffer has reached the longest
    /// <paramref name="ids"/> seen.
    /// </summary>
    /// <param name="text">The text; empty gives <c>[CLS] [SEP]</c>.</param>
    /// <param name="ids">Where the ids go; at least 2 long. Its length is the most tokens written.</param>
    /// <returns>How many ids were written, 2 to <c>ids.Length</c>.</returns>
    /// <exception cref="ArgumentException"><paramref name="text"/> is null, or <paramref name="ids"/> is shorter than 2.</exception>
    public int Encode(string text, Span<int> ids)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (ids.Length < 2)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"ids.Length: expected at least 2 (room for [CLS] and [SEP]), actual {ids.Length}."), nameof(ids));
        }

        lock (_lock)
        {
            if (_ids.Length < ids.Length)
            {
                _ids = new long[ids.Length];
                _mask = new long[ids.Length];
            }

            int count = _tokenizer.Encode(text, _ids.AsSpan(0, ids.Length), _mask.AsSpan(0, ids.Length));
            for (int t = 0; t < count; t++)
            {
                ids[t] = (int)_ids[t];
            }

            return count;
        }
    }

    /// <summary>The tokens of <paramref name="text"/>'s encoding, <c>[CLS]</c> and <c>[SEP]</c> included (for display).</summary>
    /// <param name="text">The text.</param>
    /// <param name="maxTokens">The most tokens, at least 2.</param>
    /// <returns>The tokens.</returns>
    /// <exception cref="ArgumentException">As <see cref="Encode"/>.</exception>
    public string[] Tokenize(string text, int maxTokens = 512)
    {
        if (maxTokens < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, string.Create(CultureInfo.InvariantCulture, $"maxTokens: expected at least 2, actual {maxTokens}."));
        }

        var ids = new int[maxTokens];
        int count = Encode(text, ids);
        var tokens = new string[count];
        for (int t = 0; t < count; t++)
        {
            tokens[t] = _tokens[ids[t]];
        }

        return tokens;
    }
}
