using System.Numerics.Tensors;
using SelfAttention.Comparison.Implementations;

namespace SelfAttention.Comparison.Peers;

/// <summary>
/// Attention composed from <see cref="TensorPrimitives"/> calls, the way a .NET user would write it: per query row a
/// <see cref="TensorPrimitives.Dot{T}(ReadOnlySpan{T}, ReadOnlySpan{T})"/> per key, then a max-subtracted softmax made of
/// separate Max / Subtract / Exp / Sum / Divide calls (never <c>TensorPrimitives.SoftMax</c>, which does not subtract the
/// maximum), then one <c>MultiplyAdd</c> per value row into the output row. A head's rows are strided slices of the
/// BSNH buffers, each row contiguous, so no copy is needed. One thread; the score row is preallocated, so a call
/// allocates nothing.
/// </summary>
public sealed class TensorPrimitivesPeer : AttentionImplementation
{
    /// <summary>The table name.</summary>
    public const string PeerName = "TensorPrimitives";

    // scores: [KeyLength], one query row's scores, then its weights.
    private float[] _scores = [];

    /// <inheritdoc/>
    public override string Name => PeerName;

    /// <inheritdoc/>
    public override void Prepare(AttentionShape shape)
    {
        if (_scores.Length < shape.KeyLength)
        {
            _scores = new float[shape.KeyLength];
        }
    }

    /// <inheritdoc/>
    public override void Run(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                             Span<float> output, AttentionShape shape, AttentionOptions options)
    {
        int queryLength = shape.QueryLength, keyLength = shape.KeyLength, headDim = shape.HeadDim, valueDim = shape.ValueDim;
        int groupSize = shape.Heads / shape.KvHeads;
        int queryWidth = shape.Heads * headDim, keyWidth = shape.KvHeads * headDim;
        int valueWidth = shape.KvHeads * valueDim, outputWidth = shape.Heads * valueDim;
        float scale = options.Scale ?? 1f / MathF.Sqrt(headDim);

        for (int b = 0; b < shape.Batch; b++)
        {
            ReadOnlySpan<float> keys = key.Slice(b * keyLength * keyWidth, keyLength * keyWidth);
            ReadOnlySpan<float> values = value.Slice(b * keyLength * valueWidth, keyLength * valueWidth);
            for (int h = 0; h < shape.Heads; h++)
            {
                int kvHead = h / groupSize;
                for (int i = 0; i < queryLength; i++)
                {
                    // Causal, bottom-right aligned: row i sees keys j ≤ i + keyLength − queryLength.
                    int visible = options.IsCausal ? Math.Clamp(i + keyLength - queryLength + 1, 0, keyLength) : keyLength;
                    ReadOnlySpan<float> queryRow = query.Slice(((b * queryLength) + i) * queryWidth + h * headDim, headDim);
                    Span<float> outputRow = output.Slice(((b * queryLength) + i) * outputWidth + h * valueDim, valueDim);
                    Span<float> scores = _scores.AsSpan(0, visible);
                    outputRow.Clear();

                    // scores[j] = scale · q_i·k_j
                    for (int j = 0; j < visible; j++)
                    {
                        scores[j] = TensorPrimitives.Dot(queryRow, keys.Slice(j * keyWidth + kvHead * headDim, headDim));
                    }

                    TensorPrimitives.Multiply(scores, scale, scores);
                    if (!Normalize(scores, options.Normalization))
                    {
                        continue;
                    }

                    // output_i = Σ_j p_j · v_j
                    for (int j = 0; j < visible; j++)
                    {
                        TensorPrimitives.MultiplyAdd(values.Slice(j * valueWidth + kvHead * valueDim, valueDim), scores[j], outputRow, outputRow);
                    }
                }
            }
        }
    }

    // Turns scores into weights in place; false when every weight is 0 (no visible key, or a zero plain sum).
    private static bool Normalize(Span<float> scores, AttentionNormalization normalization)
    {
        if (scores.IsEmpty)
        {
            return false;
        }

        if (normalization == AttentionNormalization.Softmax)
        {
            // p_j = e^(s_j − max) / Σ e^(s_k − max)
            float rowMax = TensorPrimitives.Max(scores);
            TensorPrimitives.Subtract(scores, rowMax, scores);
            TensorPrimitives.Exp(scores, scores);
        }

        float rowSum = TensorPrimitives.Sum(scores);
        if (rowSum == 0)
        {
            return false;
        }

        TensorPrimitives.Divide(scores, rowSum, scores);
        return true;
    }
}
