using CommunityToolkit.HighPerformance;
using SelfAttention.Internal;

namespace SelfAttention.Reference;

/// <summary>
/// The oracle for <see cref="MultiHeadAttention"/>: the same layer computed the textbook way, projections as triple
/// loops summed in double and attention through <see cref="NaiveAttention"/>, one head at a time with explicit copies.
/// It validates exactly as the layer does. Never optimised; it allocates.
/// </summary>
public static class NaiveMultiHeadAttention
{
    /// <summary>Cross- (or self-) attention through <paramref name="layer"/>'s weights; the semantics of <see cref="MultiHeadAttention.Forward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, AttentionOptions)"/>.</summary>
    /// <param name="layer">The layer whose weights are used.</param>
    /// <param name="query"><c>[batch, queryLength, ModelDim]</c>.</param>
    /// <param name="keyValue"><c>[batch, keyLength, ModelDim]</c>.</param>
    /// <param name="output">Receives <c>[batch, queryLength, ModelDim]</c>.</param>
    /// <param name="batch">Sequences.</param>
    /// <param name="queryLength">Query tokens per sequence.</param>
    /// <param name="keyLength">Key/value tokens per sequence.</param>
    /// <param name="options">As for <see cref="Attention"/>.</param>
    /// <exception cref="ArgumentException">As for the layer.</exception>
    public static void Forward(MultiHeadAttention layer, ReadOnlySpan<float> query, ReadOnlySpan<float> keyValue, Span<float> output,
                               int batch, int queryLength, int keyLength, AttentionOptions options = default) =>
        Forward(layer, query, keyValue, output, default, AttentionWeightsMode.PerHead, hasWeights: false, batch, queryLength, keyLength, false, default, options);

    /// <summary>
    /// Cross- (or self-) attention with <paramref name="modifiers"/>; the semantics of
    /// <see cref="MultiHeadAttention.Forward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, AttentionModifiers, AttentionOptions)"/>.
    /// Each head runs alone through <see cref="NaiveAttention"/> with its own slope and sink and its own
    /// <c>[queryLength, keyLength]</c> mask, gathered element by element through the strides.
    /// </summary>
    /// <param name="layer">The layer whose weights are used.</param>
    /// <param name="query"><c>[batch, queryLength, ModelDim]</c>.</param>
    /// <param name="keyValue"><c>[batch, keyLength, ModelDim]</c>.</param>
    /// <param name="output">Receives <c>[batch, queryLength, ModelDim]</c>.</param>
    /// <param name="batch">Sequences.</param>
    /// <param name="queryLength">Query tokens per sequence.</param>
    /// <param name="keyLength">Key/value tokens per sequence.</param>
    /// <param name="modifiers">As for the layer.</param>
    /// <param name="options">As for <see cref="Attention"/>.</param>
    /// <exception cref="ArgumentException">As for the layer.</exception>
    public static void Forward(MultiHeadAttention layer, ReadOnlySpan<float> query, ReadOnlySpan<float> keyValue, Span<float> output,
                               int batch, int queryLength, int keyLength, AttentionModifiers modifiers, AttentionOptions options = default) =>
        Forward(layer, query, keyValue, output, default, AttentionWeightsMode.PerHead, hasWeights: false, batch, queryLength, keyLength, true, modifiers, options);

    /// <summary>The same, also writing the attention weights as <see cref="MultiHeadAttention"/> does.</summary>
    /// <param name="layer">The layer whose weights are used.</param>
    /// <param name="query"><c>[batch, queryLength, ModelDim]</c>.</param>
    /// <param name="keyValue"><c>[batch, keyLength, ModelDim]</c>.</param>
    /// <param name="output">Receives <c>[batch, queryLength, ModelDim]</c>.</param>
    /// <param name="attentionWeights">Per head <c>[batch, Heads, queryLength, keyLength]</c> or averaged <c>[batch, queryLength, keyLength]</c>.</param>
    /// <param name="mode">Per head or averaged.</param>
    /// <param name="batch">Sequences.</param>
    /// <param name="queryLength">Query tokens per sequence.</param>
    /// <param name="keyLength">Key/value tokens per sequence.</param>
    /// <param name="options">As for <see cref="Attention"/>.</param>
    /// <exception cref="ArgumentException">As for the layer.</exception>
    public static void Forward(MultiHeadAttention layer, ReadOnlySpan<float> query, ReadOnlySpan<float> keyValue, Span<float> output,
                               Span<float> attentionWeights, AttentionWeightsMode mode, int batch, int queryLength, int keyLength, AttentionOptions options = default) =>
        Forward(layer, query, keyValue, output, attentionWeights, mode, hasWeights: true, batch, queryLength, keyLength, false, default, options);

    private static void Forward(MultiHeadAttention layer, ReadOnlySpan<float> query, ReadOnlySpan<float> keyValue, Span<float> output,
                                Span<float> weights, AttentionWeightsMode mode, bool hasWeights, int batch, int queryLength, int keyLength,
                                bool hasModifiers, in AttentionModifiers modifiers, AttentionOptions options)
    {
        var shape = new AttentionShape(batch, queryLength, keyLength, layer.Heads, layer.HeadDim) { KvHeads = layer.KvHeads, ValueDim = layer.ValueDim };
        LayerValidation.Validate(layer, query, keyValue, output, weights, mode, hasWeights, shape, options, out _);
        var strides = modifiers.MaskStrides ?? AttentionMaskStrides.Shared(keyLength);
        if (hasModifiers)
        {
            ModifierValidation.Validate(modifiers, batch, layer.Heads, queryLength, keyLength, options, MemoryExtent.Of((ReadOnlySpan<float>)output),
                                        MemoryExtent.Of(query), MemoryExtent.Of(keyValue), default);
        }
        int e = layer.ModelDim, h = layer.Heads, kvh = layer.KvHeads, d = layer.HeadDim, dv = layer.ValueDim, group = h / kvh;
        if (hasWeights)
        {
            weights.Clear();
        }

        for (int b = 0; b < batch; b++)
        {
            // Projections of this sequence: [rows, out] = x[rows, e]·W[e, out] + bias.
            double[,] q = Project(query.Slice(b * queryLength * e, queryLength * e), queryLength, e, layer.QueryWeights, layer.QueryBias, h * d);
            double[,] k = Project(keyValue.Slice(b * keyLength * e, keyLength * e), keyLength, e, layer.KeyWeights, layer.KeyBias, kvh * d);
            double[,] v = Project(keyValue.Slice(b * keyLength * e, keyLength * e), keyLength, e, layer.ValueWeights, layer.ValueBias, kvh * dv);
            var context = new double[queryLength, h * dv];
            for (int head = 0; head < h; head++)
            {
                int g = head / group;
                float[,] qh = Columns(q, head * d, d), kh = Columns(k, g * d, d), vh = Columns(v, g * dv, dv);
                var oh = new float[queryLength, dv];
                var wh = new float[queryLength, keyLength];
                if (queryLength > 0 && hasModifiers)
                {
                    // This head's own modifiers: one slope, one sink, its [queryLength, keyLength] mask copied out.
                    bool[] boolean = new bool[modifiers.BooleanMask.IsEmpty ? 0 : queryLength * keyLength];
                    float[] additive = new float[modifiers.AdditiveMask.IsEmpty ? 0 : queryLength * keyLength];
                    for (int i = 0; i < queryLength; i++)
                    {
                        for (int j = 0; j < keyLength; j++)
                        {
                            long at = b * strides.Batch + head * strides.Head + i * strides.Query + j * strides.Key;
                            if (boolean.Length > 0) boolean[i * keyLength + j] = modifiers.BooleanMask[(int)at];
                            if (additive.Length > 0) additive[i * keyLength + j] = modifiers.AdditiveMask[(int)at];
                        }
                    }

                    float[] lse = new float[queryLength];
                    var headModifiers = new AttentionModifiers
                    {
                        AlibiSlopes = modifiers.AlibiSlopes.IsEmpty ? default : modifiers.AlibiSlopes.Slice(head, 1),
                        Sinks = modifiers.Sinks.IsEmpty ? default : modifiers.Sinks.Slice(head, 1),
                        BooleanMask = boolean, AdditiveMask = additive, LogSumExp = modifiers.LogSumExp.IsEmpty ? default : lse,
                    };
                    NaiveAttention.Compute(qh, kh, vh, oh, headModifiers, options);
                    if (!modifiers.LogSumExp.IsEmpty)
                    {
                        lse.CopyTo(modifiers.LogSumExp.Slice((b * h + head) * queryLength, queryLength));
                    }
                }
                else if (queryLength > 0)
                {
                    NaiveAttention.Compute(qh, kh, vh, oh, wh, options);
                }

                for (int i = 0; i < queryLength; i++)
                {
                    for (int c = 0; c < dv; c++)
                    {
                        context[i, head * dv + c] = oh[i, c];
                    }

                    for (int j = 0; j < keyLength; j++)
                    {
                        if (!hasWeights)
                        {
                            break;
                        }

                        if (mode == AttentionWeightsMode.PerHead)
                        {
                            weights[((b * h + head) * queryLength + i) * keyLength + j] = wh[i, j];
                        }
                        else
                        {
                            weights[(b * queryLength + i) * keyLength + j] += wh[i, j] / h;
                        }
                    }
                }
            }

            // Output projection: [queryLength, e] = context[queryLength, h·dv]·W_o + b_o.
            for (int i = 0; i < queryLength; i++)
            {
                for (int c = 0; c < e; c++)
                {
                    double sum = layer.HasBias ? layer.OutputBias[c] : 0;
                    for (int x = 0; x < h * dv; x++)
                    {
                        sum += context[i, x] * layer.OutputWeights[x * e + c];
                    }

                    output[(b * queryLength + i) * e + c] = (float)sum;
                }
            }
        }
    }

    private static double[,] Project(ReadOnlySpan<float> x, int rows, int inWidth, Span<float> w, Span<float> bias, int outWidth)
    {
        var result = new double[rows, outWidth];
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outWidth; o++)
            {
                double sum = bias.IsEmpty ? 0 : bias[o];
                for (int i = 0; i < inWidth; i++)
                {
                    sum += (double)x[r * inWidth + i] * w[i * outWidth + o];
                }

                result[r, o] = sum;
            }
        }

        return result;
    }

    private static float[,] Columns(double[,] matrix, int first, int count)
    {
        int rows = matrix.GetLength(0);
        var result = new float[rows, count];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < count; c++)
            {
                result[r, c] = (float)matrix[r, first + c];
            }
        }

        return result;
    }
}
