namespace SelfAttention.Tests.Masks;

/// <summary>
/// User-defined modifiers (<see cref="IAttentionModifier{TSelf}"/>) the tests run: causal written by hand (with and
/// without tile classification), document masking over packed documents and a relative-position bias (both holding
/// arrays: managed fields), and one that masks and modifies at once, hiding some keys by the score.
/// </summary>
internal static class UserModifiers
{
    /// <summary>Causal, <c>j ≤ i + offset</c>, with FlexAttention's block classification: must equal the built-in causal bit for bit.</summary>
    public readonly struct HandCausal(int offset) : IAttentionModifier<HandCausal>
    {
        private readonly int _offset = offset;

        public static AttentionMaskKind MaskKind => AttentionMaskKind.Elements;

        public static bool ModifiesScores => false;

        public bool IsVisible(int batch, int head, int queryIndex, int keyIndex) => keyIndex <= queryIndex + _offset;

        public float ModifyScore(float score, int batch, int head, int queryIndex, int keyIndex) => score;

        public static AttentionTile ClassifyTile(in HandCausal m, int batch, int head, int queryStart, int queryCount, int keyStart, int keyCount) =>
            keyStart + keyCount - 1 <= queryStart + m._offset ? AttentionTile.Full
            : keyStart > queryStart + queryCount - 1 + m._offset ? AttentionTile.Empty : AttentionTile.Partial;
    }

    /// <summary>The same causal rule as an exact key range per row, with the tile classification: the built-in causal's code path.</summary>
    public readonly struct RangeCausal(int offset) : IAttentionModifier<RangeCausal>
    {
        private readonly int _offset = offset;

        public static AttentionMaskKind MaskKind => AttentionMaskKind.Range;

        public static bool ModifiesScores => false;

        public bool IsVisible(int batch, int head, int queryIndex, int keyIndex) => throw new InvalidOperationException("an exact range is never asked per element");

        public float ModifyScore(float score, int batch, int head, int queryIndex, int keyIndex) => score;

        public static (int Start, int End) KeyRange(in RangeCausal m, int batch, int head, int queryIndex, int keyLength) => (0, queryIndex + m._offset + 1);

        public static AttentionTile ClassifyTile(in RangeCausal m, int batch, int head, int queryStart, int queryCount, int keyStart, int keyCount) =>
            keyStart + keyCount - 1 <= queryStart + m._offset ? AttentionTile.Full
            : keyStart > queryStart + queryCount - 1 + m._offset ? AttentionTile.Empty : AttentionTile.Partial;
    }

    /// <summary>
    /// Bottom-right causal per sequence, as an exact range: row i of sequence b sees <c>j ≤ i + offsets[b]</c> (its own
    /// key length minus its own query length), so it must read the sequence index the kernels pass.
    /// </summary>
    public readonly struct SequenceCausal(int[] offsets) : IAttentionModifier<SequenceCausal>
    {
        private readonly int[] _offsets = offsets;

        public static AttentionMaskKind MaskKind => AttentionMaskKind.Range;

        public static bool ModifiesScores => false;

        public bool IsVisible(int batch, int head, int queryIndex, int keyIndex) => throw new InvalidOperationException("an exact range is never asked per element");

        public float ModifyScore(float score, int batch, int head, int queryIndex, int keyIndex) => score;

        public static (int Start, int End) KeyRange(in SequenceCausal m, int batch, int head, int queryIndex, int keyLength) => (0, queryIndex + m._offsets[batch] + 1);

        public static AttentionTile ClassifyTile(in SequenceCausal m, int batch, int head, int queryStart, int queryCount, int keyStart, int keyCount) =>
            keyStart + keyCount - 1 <= queryStart + m._offsets[batch] ? AttentionTile.Full
            : keyStart > queryStart + queryCount - 1 + m._offsets[batch] ? AttentionTile.Empty : AttentionTile.Partial;
    }

    /// <summary>An exact range of <c>[start, end)</c> for every row, as given (outside the head, or reversed, to test the clamping).</summary>
    public readonly struct FixedRange(int start, int end) : IAttentionModifier<FixedRange>
    {
        private readonly int _start = start, _end = end;

        public static AttentionMaskKind MaskKind => AttentionMaskKind.Range;

        public static bool ModifiesScores => false;

        public bool IsVisible(int batch, int head, int queryIndex, int keyIndex) => throw new InvalidOperationException("an exact range is never asked per element");

        public float ModifyScore(float score, int batch, int head, int queryIndex, int keyIndex) => score;

        public static (int Start, int End) KeyRange(in FixedRange m, int batch, int head, int queryIndex, int keyLength) => (m._start, m._end);
    }

    /// <summary>The same causal rule with no tile classification: every element is asked.</summary>
    public readonly struct HandCausalPerElement(int offset) : IAttentionModifier<HandCausalPerElement>
    {
        private readonly int _offset = offset;

        public static AttentionMaskKind MaskKind => AttentionMaskKind.Elements;

        public static bool ModifiesScores => false;

        public bool IsVisible(int batch, int head, int queryIndex, int keyIndex) => keyIndex <= queryIndex + _offset;

        public float ModifyScore(float score, int batch, int head, int queryIndex, int keyIndex) => score;
    }

    /// <summary>
    /// Document masking: token t belongs to document <c>documents[t]</c> (non-decreasing), and a query sees only the
    /// keys of its own document, causally when <paramref name="causal"/>. Tiles whose rows and keys lie in one document
    /// (and, causal, below the diagonal) are full; tiles of disjoint documents are empty.
    /// </summary>
    public readonly struct Documents(int[] documents, bool causal) : IAttentionModifier<Documents>
    {
        private readonly int[] _documents = documents;
        private readonly bool _causal = causal;

        public static AttentionMaskKind MaskKind => AttentionMaskKind.Elements;

        public static bool ModifiesScores => false;

        public bool IsVisible(int batch, int head, int queryIndex, int keyIndex) =>
            _documents[queryIndex] == _documents[keyIndex] && (!_causal || keyIndex <= queryIndex);

        public float ModifyScore(float score, int batch, int head, int queryIndex, int keyIndex) => score;

        public static AttentionTile ClassifyTile(in Documents m, int batch, int head, int queryStart, int queryCount, int keyStart, int keyCount)
        {
            int[] d = m._documents;
            int firstQuery = d[queryStart], lastQuery = d[queryStart + queryCount - 1], firstKey = d[keyStart], lastKey = d[keyStart + keyCount - 1];
            if (lastQuery < firstKey || lastKey < firstQuery || (m._causal && keyStart > queryStart + queryCount - 1))
            {
                return AttentionTile.Empty;
            }

            bool oneDocument = firstQuery == lastQuery && firstKey == lastKey && firstQuery == firstKey;
            return oneDocument && (!m._causal || keyStart + keyCount - 1 <= queryStart) ? AttentionTile.Full : AttentionTile.Partial;
        }
    }

    /// <summary>
    /// Document masking as an exact run of keys per row (<see cref="AttentionMaskKind.Range"/>):
    /// <c>[first token of the row's document, its end or, causal, the row + 1)</c>.
    /// </summary>
    public readonly struct DocumentRuns : IAttentionModifier<DocumentRuns>
    {
        private readonly int[] _first, _end;
        private readonly bool _causal;

        public DocumentRuns(int[] documents, bool causal)
        {
            _first = new int[documents.Length];
            _end = new int[documents.Length];
            _causal = causal;
            for (int t = 0; t < documents.Length; t++)
            {
                _first[t] = t > 0 && documents[t - 1] == documents[t] ? _first[t - 1] : t;
            }

            for (int t = documents.Length - 1; t >= 0; t--)
            {
                _end[t] = t + 1 < documents.Length && documents[t + 1] == documents[t] ? _end[t + 1] : t + 1;
            }
        }

        public static AttentionMaskKind MaskKind => AttentionMaskKind.Range;

        public static bool ModifiesScores => false;

        public bool IsVisible(int batch, int head, int queryIndex, int keyIndex) => throw new InvalidOperationException("an exact range is never asked per element");

        public float ModifyScore(float score, int batch, int head, int queryIndex, int keyIndex) => score;

        public static (int Start, int End) KeyRange(in DocumentRuns m, int batch, int head, int queryIndex, int keyLength) =>
            (m._first[queryIndex], m._causal ? queryIndex + 1 : m._end[queryIndex]);
    }

    /// <summary>
    /// A learned relative-position bias (T5-style, clipped): <c>score + bias[head][clamp(j − position(i)) + maxDistance]</c>
    /// with position(i) = i + offset; <c>bias</c> is <c>[heads][2·maxDistance + 1]</c>, flattened.
    /// </summary>
    public readonly struct RelativeBias(float[] bias, int maxDistance, int offset) : IAttentionModifier<RelativeBias>
    {
        private readonly float[] _bias = bias;
        private readonly int _maxDistance = maxDistance, _offset = offset;

        public static AttentionMaskKind MaskKind => AttentionMaskKind.None;

        public static bool ModifiesScores => true;

        public bool IsVisible(int batch, int head, int queryIndex, int keyIndex) => true;

        public float ModifyScore(float score, int batch, int head, int queryIndex, int keyIndex)
        {
            int distance = Math.Clamp(keyIndex - (queryIndex + _offset), -_maxDistance, _maxDistance);
            return score + _bias[head * (2 * _maxDistance + 1) + distance + _maxDistance];
        }
    }

    /// <summary>
    /// Masks and modifies: hides keys with <c>(i + 2j + batch) % 5 == 0</c>, scales scores by <c>1 + head/4</c>, and
    /// makes the score of every seventh key −∞ (hidden through the score, as an additive mask would).
    /// </summary>
    public readonly struct Both : IAttentionModifier<Both>
    {
        public static AttentionMaskKind MaskKind => AttentionMaskKind.Elements;

        public static bool ModifiesScores => true;

        public bool IsVisible(int batch, int head, int queryIndex, int keyIndex) => (queryIndex + 2 * keyIndex + batch) % 5 != 0;

        public float ModifyScore(float score, int batch, int head, int queryIndex, int keyIndex) =>
            keyIndex % 7 == 6 ? float.NegativeInfinity : score * (1 + head / 4f);
    }

    /// <summary>
    /// Records, in <c>faults[0]</c>, every question asked about an element outside the call's shape, and in
    /// <c>faults[1]</c> every question about a row or key past its sequence's real lengths. Masks nothing.
    /// </summary>
    public readonly struct IndexProbe(int[] faults, int batch, int heads, int queryLength, int keyLength, int[] queryLengths, int[] keyLengths)
        : IAttentionModifier<IndexProbe>
    {
        private readonly int[] _faults = faults, _queryLengths = queryLengths, _keyLengths = keyLengths;
        private readonly int _batch = batch, _heads = heads, _queryLength = queryLength, _keyLength = keyLength;

        public static AttentionMaskKind MaskKind => AttentionMaskKind.Elements;

        public static bool ModifiesScores => true;

        public bool IsVisible(int batch, int head, int queryIndex, int keyIndex)
        {
            Check(batch, head, queryIndex, keyIndex);
            return true;
        }

        public float ModifyScore(float score, int batch, int head, int queryIndex, int keyIndex)
        {
            Check(batch, head, queryIndex, keyIndex);
            return score;
        }

        private void Check(int batch, int head, int queryIndex, int keyIndex)
        {
            if ((uint)batch >= (uint)_batch || (uint)head >= (uint)_heads || (uint)queryIndex >= (uint)_queryLength || (uint)keyIndex >= (uint)_keyLength)
            {
                Interlocked.Increment(ref _faults[0]);
            }
            else if (queryIndex >= _queryLengths[batch] || keyIndex >= _keyLengths[batch])
            {
                Interlocked.Increment(ref _faults[1]);
            }
        }
    }
}
