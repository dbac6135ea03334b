using System.Globalization;
using SelfAttention.Internal;

namespace SelfAttention.Transformers;

/// <summary>
/// A BERT-style embedding layer: for token t of a sequence, <c>LayerNorm(words[id] + positions[t] + tokenTypes[type])</c>,
/// with t counted from 0 in each sequence. Sequences are packed (concatenated without padding, with cumulative
/// offsets), so the layer does work only for real tokens. Immutable after construction, allocation-free per call and
/// safe to call from several threads at once.
/// </summary>
public sealed class TokenEmbeddings
{
    private readonly float[] _words, _positions, _types, _gamma, _beta;

    /// <summary>Checks and copies the tables.</summary>
    /// <param name="weights">The tables; the model width d is <c>NormGamma.Length</c>, and each table a whole number of rows of d.</param>
    /// <param name="layerNormEpsilon">The LayerNorm's epsilon: finite, ≥ 0 (BERT: 1e-12).</param>
    /// <exception cref="ArgumentException">A table is null, empty (words, positions), or not a whole number of rows of d; or epsilon is out of range.</exception>
    public TokenEmbeddings(EmbeddingWeights weights, float layerNormEpsilon = 1e-12f)
    {
        if (weights is null) throw new ArgumentNullException(nameof(weights), "weights: expected the embedding tables, actual null.");
        int d = weights.NormGamma?.Length ?? 0;
        if (d < 1) ThrowHelper.ThrowNotPositive(nameof(weights), "weights.NormGamma.Length (the model width d)", d);
        if (!float.IsFinite(layerNormEpsilon) || layerNormEpsilon < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(layerNormEpsilon), layerNormEpsilon,
                string.Create(CultureInfo.InvariantCulture, $"layerNormEpsilon: expected a finite number ≥ 0, actual {layerNormEpsilon}."));
        }

        ModelDim = d;
        LayerNormEpsilon = layerNormEpsilon;
        _words = Table(weights.Words, d, nameof(weights.Words), allowEmpty: false);
        _positions = Table(weights.Positions, d, nameof(weights.Positions), allowEmpty: false);
        _types = Table(weights.TokenTypes, d, nameof(weights.TokenTypes), allowEmpty: true);
        _beta = Table(weights.NormBeta, d, nameof(weights.NormBeta), allowEmpty: false);
        if (_beta.Length != d) ThrowHelper.ThrowSizeMismatch(nameof(weights), "weights.NormBeta.Length (d)", d, _beta.Length);
        _gamma = (float[])weights.NormGamma!.Clone();
    }

    /// <summary>The model width d.</summary>
    public int ModelDim { get; }

    /// <summary>Rows of the word-piece table: token ids are in <c>[0, VocabularySize)</c>.</summary>
    public int VocabularySize => _words.Length / ModelDim;

    /// <summary>Rows of the position table: the longest sequence.</summary>
    public int MaxPositions => _positions.Length / ModelDim;

    /// <summary>Rows of the token-type table (0: the model has none, and every type id must be absent).</summary>
    public int TokenTypeCount => _types.Length / ModelDim;

    /// <summary>The LayerNorm's epsilon.</summary>
    public float LayerNormEpsilon { get; }

    /// <summary>Embeds packed sequences of token ids.</summary>
    /// <param name="tokenIds">Every sequence's ids, concatenated, <c>[totalTokens]</c>, each in <c>[0, VocabularySize)</c>.</param>
    /// <param name="tokenTypeIds">Their token types, <c>[totalTokens]</c>, each in <c>[0, TokenTypeCount)</c>; empty for all 0 (or for none, when the model has no table).</param>
    /// <param name="sequenceOffsets"><c>[batch + 1]</c> cumulative token counts: from 0, never decreasing, to totalTokens; no sequence longer than <see cref="MaxPositions"/>.</param>
    /// <param name="output">The embeddings, <c>[totalTokens, d]</c>.</param>
    /// <exception cref="ArgumentException">A length does not match, an id or a type is out of range, an offset is wrong or a sequence too long. Nothing is written then.</exception>
    public void Forward(ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> tokenTypeIds, ReadOnlySpan<int> sequenceOffsets, Span<float> output)
    {
        Validate(tokenIds, tokenTypeIds, sequenceOffsets, output.Length);
        Run(tokenIds, tokenTypeIds, sequenceOffsets, output);
    }

    // Forward's work, on arguments Validate has checked (TransformerEncoder validates with its own parameter names); the
    // LayerNorm on up to `degree` threads, as the encoder layers' (the lookups are a copy and two adds per row).
    internal void Run(ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> tokenTypeIds, ReadOnlySpan<int> sequenceOffsets, Span<float> output, int degree = 1)
    {
        int d = ModelDim;
        for (int b = 0; b + 1 < sequenceOffsets.Length; b++)
        {
            for (int t = sequenceOffsets[b]; t < sequenceOffsets[b + 1]; t++)
            {
                Span<float> row = output.Slice(t * d, d);
                System.Numerics.Tensors.TensorPrimitives.Add(_words.AsSpan(tokenIds[t] * d, d), _positions.AsSpan((t - sequenceOffsets[b]) * d, d), row);
                if (_types.Length != 0)
                {
                    int type = tokenTypeIds.IsEmpty ? 0 : tokenTypeIds[t];
                    System.Numerics.Tensors.TensorPrimitives.Add(row, _types.AsSpan(type * d, d), row);
                }
            }
        }

        Kernels.NormKernels.LayerNorm(output, [], _gamma, _beta, output, LayerNormEpsilon, degree);
    }

    // Every check of Forward, before anything is written; shared with the reference (NaiveTokenEmbeddings).
    internal void Validate(ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> tokenTypeIds, ReadOnlySpan<int> sequenceOffsets, long outputLength, string outputName = "output")
    {
        TransformerValidation.CheckSequenceOffsets(sequenceOffsets, tokenIds.Length, nameof(sequenceOffsets));
        long expected = AttentionValidation.Product(nameof(tokenIds), "totalTokens · d", Array.MaxLength, tokenIds.Length, ModelDim);
        if (outputLength != expected) ThrowHelper.ThrowSizeMismatch(outputName, $"{outputName}.Length (totalTokens · d)", expected, outputLength);
        if (!tokenTypeIds.IsEmpty && tokenTypeIds.Length != tokenIds.Length)
        {
            ThrowHelper.ThrowSizeMismatch(nameof(tokenTypeIds), "tokenTypeIds.Length (totalTokens, or 0 for all 0)", tokenIds.Length, tokenTypeIds.Length);
        }

        for (int b = 0; b + 1 < sequenceOffsets.Length; b++)
        {
            int length = sequenceOffsets[b + 1] - sequenceOffsets[b];
            if (length > MaxPositions)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"sequenceOffsets: sequence {b}: expected at most the model's {MaxPositions} positions, actual {length} tokens."), nameof(sequenceOffsets));
            }
        }

        int vocabulary = VocabularySize;
        for (int t = 0; t < tokenIds.Length; t++)
        {
            if ((uint)tokenIds[t] >= (uint)vocabulary)
            {
                throw new ArgumentOutOfRangeException(nameof(tokenIds), tokenIds[t], string.Create(CultureInfo.InvariantCulture,
                    $"tokenIds[{t}]: expected an id in [0, {vocabulary}), actual {tokenIds[t]}."));
            }
        }

        int types = Math.Max(1, TokenTypeCount);
        for (int t = 0; t < tokenTypeIds.Length; t++)
        {
            if ((uint)tokenTypeIds[t] >= (uint)types || (TokenTypeCount == 0 && tokenTypeIds[t] != 0))
            {
                throw new ArgumentOutOfRangeException(nameof(tokenTypeIds), tokenTypeIds[t], string.Create(CultureInfo.InvariantCulture,
                    $"tokenTypeIds[{t}]: expected a type in [0, {types}), actual {tokenTypeIds[t]}."));
            }
        }
    }

    internal ReadOnlySpan<float> WordRow(int id) => _words.AsSpan(id * ModelDim, ModelDim);

    internal ReadOnlySpan<float> PositionRow(int position) => _positions.AsSpan(position * ModelDim, ModelDim);

    internal ReadOnlySpan<float> TypeRow(int type) => _types.Length == 0 ? default : _types.AsSpan(type * ModelDim, ModelDim);

    internal ReadOnlySpan<float> Gamma => _gamma;

    internal ReadOnlySpan<float> Beta => _beta;

    private static float[] Table(float[]? values, int d, string name, bool allowEmpty)
    {
        if (values is null || (!allowEmpty && values.Length == 0) || values.Length % d != 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"weights.{name}.Length: expected a {(allowEmpty ? "" : "positive ")}multiple of the model width {d}, actual {values?.Length.ToString(CultureInfo.InvariantCulture) ?? "null"}."), "weights");
        }

        return (float[])values.Clone();
    }
}
