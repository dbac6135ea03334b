using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using CommunityToolkit.HighPerformance;

namespace SelfAttention.Kernels;

/// <summary>
/// Attention one query row at a time: scores against every visible key (four keys per pass over the query), a fused
/// stable softmax (or the plain sum) in place, then the weighted sum of value rows with the output block in registers.
/// Memory: one row of <c>keyLength</c> scores, on the stack up to <see cref="StackScoreLimit"/> keys, pooled beyond;
/// with a weights output the weights row itself holds the scores.
/// </summary>
internal static class RowByRowAttention
{
    /// <summary>Score rows up to this many floats (32 KiB) live on the stack.</summary>
    private const int StackScoreLimit = 8192;

    /// <summary>Runs one validated head. weights: [queryLength, keyLength], used only when <paramref name="hasWeights"/>.</summary>
    public static void Compute(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                               Span2D<float> output, Span2D<float> weights, bool hasWeights,
                               float scale, bool causal, AttentionNormalization normalization)
    {
        if (output.Height == 0)
        {
            return;
        }

        int keyLength = key.Height;
        float[]? rented = null;
        Span<float> scratch = hasWeights ? default
            : keyLength <= StackScoreLimit ? stackalloc float[keyLength]
            : (rented = ArrayPool<float>.Shared.Rent(keyLength));
        try
        {
            if (Vector512.IsHardwareAccelerated)
            {
                Run<Vector512<float>, Vector512Ops>(query, key, value, output, weights, hasWeights, scale, causal, normalization, scratch);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                Run<Vector256<float>, Vector256Ops>(query, key, value, output, weights, hasWeights, scale, causal, normalization, scratch);
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                Run<Vector128<float>, Vector128Ops>(query, key, value, output, weights, hasWeights, scale, causal, normalization, scratch);
            }
            else
            {
                Run<float, ScalarOps>(query, key, value, output, weights, hasWeights, scale, causal, normalization, scratch);
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }
    }

    // query: [queryLength, headDim]; key: [keyLength, headDim]; value: [keyLength, valueDim]; output: [queryLength, valueDim];
    // all with pitch. scratch: [≥ keyLength] unless the weights rows hold the scores.
    private static void Run<TV, TOps>(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                                      Span2D<float> output, Span2D<float> weights, bool hasWeights,
                                      float scale, bool causal, AttentionNormalization normalization, Span<float> scratch)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int queryLength = output.Height, keyLength = key.Height, headDim = query.Width, valueDim = output.Width;
        nint keyStride = Views.RowStride(key), valueStride = Views.RowStride(value);
        ref float k = ref Unsafe.AsRef(in key.DangerousGetReference());
        ref float v = ref Unsafe.AsRef(in value.DangerousGetReference());
        for (int i = 0; i < queryLength; i++)
        {
            int visible = causal ? Views.VisibleKeys(i, queryLength, keyLength) : keyLength;
            Span<float> row = hasWeights ? weights.GetRowSpan(i) : scratch;
            ref float s = ref MemoryMarshal.GetReference(row);
            RowKernels.Scores<TV, TOps>(ref MemoryMarshal.GetReference(query.GetRowSpan(i)), ref k, keyStride, visible, headDim, scale, ref s);
            if (normalization == AttentionNormalization.Softmax)
            {
                RowKernels.Softmax<TV, TOps>(ref s, ref s, visible);
            }
            else
            {
                RowKernels.SumNormalize<TV, TOps>(ref s, ref s, visible);
            }

            if (hasWeights)
            {
                row[visible..].Clear();
            }

            RowKernels.WeightedSum<TV, TOps>(ref s, visible, ref v, valueStride, valueDim, ref MemoryMarshal.GetReference(output.GetRowSpan(i)));
        }
    }
}
