namespace SelfAttention.Transformers.Reference;

/// <summary>
/// The oracle for <see cref="TransformerEncoder"/>: the embedding sum and LayerNorm, then every layer through
/// <see cref="NaiveEncoderLayer"/>'s steps, all in double with plain loops, sharing none of the fast path's kernels.
/// </summary>
public static class NaiveTransformerEncoder
{
    /// <summary>The last hidden state in double; the arguments as for <see cref="TransformerEncoder.Forward(ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int}, Span{float}, int)"/>.</summary>
    /// <param name="weights">The encoder's weights.</param>
    /// <param name="tokenIds">Every sequence's ids, concatenated, <c>[totalTokens]</c>.</param>
    /// <param name="tokenTypeIds">Their token types; empty for all 0.</param>
    /// <param name="sequenceOffsets"><c>[batch + 1]</c> cumulative token counts, from 0 to totalTokens.</param>
    /// <param name="hidden">The last hidden state, <c>[totalTokens, d]</c>, in double.</param>
    /// <exception cref="ArgumentException">As <see cref="TransformerEncoder"/> and its <c>Forward</c>.</exception>
    public static void Forward(EncoderWeights weights, ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> tokenTypeIds, ReadOnlySpan<int> sequenceOffsets, Span<double> hidden)
    {
        // The fast encoder's constructor and embedding checks validate the same way.
        var encoder = new TransformerEncoder(weights);
        encoder.Embeddings.Validate(tokenIds, tokenTypeIds, sequenceOffsets, hidden.Length, nameof(hidden));
        int d = encoder.ModelDim, rows = tokenIds.Length;
        EmbeddingWeights e = weights.Embeddings;
        int[] offsets = sequenceOffsets.ToArray();

        // Pass 1: word + position + token type, per token.
        var x = new double[rows * d];
        for (int b = 0; b + 1 < offsets.Length; b++)
        {
            for (int t = offsets[b]; t < offsets[b + 1]; t++)
            {
                int type = tokenTypeIds.IsEmpty ? 0 : tokenTypeIds[t];
                for (int c = 0; c < d; c++)
                {
                    double sum = (double)e.Words[tokenIds[t] * d + c] + e.Positions[(t - offsets[b]) * d + c];
                    if (e.TokenTypes.Length != 0)
                    {
                        sum += e.TokenTypes[type * d + c];
                    }

                    x[t * d + c] = sum;
                }
            }
        }

        // Pass 2: the embeddings' LayerNorm; pass 3: the layers in order.
        x = NaiveEncoderLayer.LayerNorm(x, e.NormGamma, e.NormBeta, rows, d, weights.LayerOptions.LayerNormEpsilon);
        foreach (EncoderLayerWeights layer in weights.Layers)
        {
            x = NaiveEncoderLayer.Run(layer, weights.LayerOptions, x, offsets, d, layer.FeedForwardUpBias.Length);
        }

        x.CopyTo(hidden);
    }
}
