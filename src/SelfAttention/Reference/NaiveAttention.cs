using CommunityToolkit.HighPerformance;
using SelfAttention.Internal;

namespace SelfAttention.Reference;

/// <summary>
/// The oracle: scaled dot-product attention written as the textbook steps, with plain loops and every sum in
/// <see cref="double"/>. It shares its validation with <see cref="Attention"/>, so both reject the same inputs with the
/// same messages. It is deliberately never optimised; it allocates one scratch row of doubles per call.
/// </summary>
public static class NaiveAttention
{
    /// <summary>Computes one head of attention; the semantics are those of <see cref="Attention.Compute(ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, Span2D{float}, AttentionOptions)"/>.</summary>
    /// <param name="query">Queries, <c>[queryLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="key">Keys, <c>[keyLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="value">Values, <c>[keyLength, valueDim]</c>; a pitch is allowed.</param>
    /// <param name="output">Receives the attention output, <c>[queryLength, valueDim]</c>; pitch gaps are never written.</param>
    /// <param name="options">Scale, causal mask and normalisation.</param>
    /// <exception cref="ArgumentException">A size does not match, the output overlaps an input, or an option is out of range.</exception>
    public static void Compute(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                               Span2D<float> output, AttentionOptions options = default)
    {
        float scale = AttentionValidation.ValidateSingleHead(query, key, value, output, default, hasWeights: false, options);
        ComputeHead(query, key, value, output, default, hasWeights: false, scale, options);
    }

    /// <summary>Computes one head of attention and writes the attention weights too.</summary>
    /// <param name="query">Queries, <c>[queryLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="key">Keys, <c>[keyLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="value">Values, <c>[keyLength, valueDim]</c>; a pitch is allowed.</param>
    /// <param name="output">Receives the attention output, <c>[queryLength, valueDim]</c>.</param>
    /// <param name="weights">Receives the normalised weights, <c>[queryLength, keyLength]</c>; masked entries are 0.</param>
    /// <param name="options">Scale, causal mask and normalisation.</param>
    /// <exception cref="ArgumentException">A size does not match, an output overlaps an input or the other output, or an option is out of range.</exception>
    public static void Compute(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                               Span2D<float> output, Span2D<float> weights, AttentionOptions options = default)
    {
        float scale = AttentionValidation.ValidateSingleHead(query, key, value, output, weights, hasWeights: true, options);
        ComputeHead(query, key, value, output, weights, hasWeights: true, scale, options);
    }

    /// <summary>Computes multi-head attention over flat BSNH buffers, one head at a time; see <see cref="AttentionShape"/> for the layout.</summary>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>.</param>
    /// <param name="shape">The sizes; every buffer must have exactly the length the shape gives.</param>
    /// <param name="options">Scale, causal mask and normalisation.</param>
    /// <exception cref="ArgumentException">The shape is invalid, a buffer length does not match, or the output overlaps an input.</exception>
    public static void ComputeMultiHead(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                        Span<float> output, AttentionShape shape, AttentionOptions options = default)
    {
        var sizes = AttentionValidation.ValidateMultiHead(query, key, value, output, shape, options);
        int groupSize = shape.Heads / sizes.KvHeads;
        for (int b = 0; b < shape.Batch; b++)
        {
            for (int h = 0; h < shape.Heads; h++)
            {
                var views = HeadViews.Create(query, key, value, output, shape, b, h, h / groupSize);
                ComputeHead(views.Query, views.Key, views.Value, views.Output, default, hasWeights: false, sizes.Scale, options);
            }
        }
    }

    private static void ComputeHead(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                                    Span2D<float> output, Span2D<float> weights, bool hasWeights, float scale, in AttentionOptions options)
    {
        int queryLength = output.Height, keyLength = key.Height, headDim = query.Width, valueDim = output.Width;
        var scores = new double[keyLength];
        for (int i = 0; i < queryLength; i++)
        {
            // Pass 1: scores s_j = (q_i · k_j) · scale, summed in double.
            for (int j = 0; j < keyLength; j++)
            {
                double dot = 0;
                for (int c = 0; c < headDim; c++)
                {
                    dot += (double)query[i, c] * key[j, c];
                }

                scores[j] = dot * scale;
            }

            // Pass 2: the causal mask, bottom-right aligned: key j is visible when j ≤ i + (keyLength − queryLength).
            // Masked scores become −∞, so they drop out of the softmax; the sum normalisation skips them.
            long lastVisible = options.IsCausal ? (long)i + keyLength - queryLength : keyLength - 1;
            for (int j = 0; j < keyLength; j++)
            {
                if (j > lastVisible)
                {
                    scores[j] = double.NegativeInfinity;
                }
            }

            // Pass 3: normalise the visible scores into weights; masked weights are 0.
            double sum = 0;
            if (options.Normalization == AttentionNormalization.Softmax)
            {
                double max = double.NegativeInfinity;
                for (int j = 0; j < keyLength; j++)
                {
                    max = Math.Max(max, scores[j]);
                }

                for (int j = 0; j < keyLength; j++)
                {
                    // A row with every key masked has max = −∞; its weights are 0, not exp(−∞ − −∞) = NaN.
                    scores[j] = j > lastVisible ? 0 : Math.Exp(scores[j] - max);
                    sum += scores[j];
                }
            }
            else
            {
                for (int j = 0; j < keyLength; j++)
                {
                    if (j > lastVisible)
                    {
                        scores[j] = 0;
                    }

                    sum += scores[j];
                }
            }

            double inverse = sum == 0 ? 0 : 1 / sum;
            for (int j = 0; j < keyLength; j++)
            {
                // Masked weights stay 0 even when a NaN elsewhere in the row makes the inverse NaN.
                scores[j] = j > lastVisible ? 0 : scores[j] * inverse;
            }

            // Pass 4: output row i = Σ_j w_j · v_j, summed in double.
            for (int c = 0; c < valueDim; c++)
            {
                double acc = 0;
                for (int j = 0; j < keyLength; j++)
                {
                    if (j <= lastVisible)
                    {
                        acc += scores[j] * value[j, c];
                    }
                }

                output[i, c] = (float)acc;
            }

            if (hasWeights)
            {
                for (int j = 0; j < keyLength; j++)
                {
                    weights[i, j] = (float)scores[j];
                }
            }
        }
    }
}
