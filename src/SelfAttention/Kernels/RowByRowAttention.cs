using System.Runtime.CompilerServices;
using SelfAttention.Kernels.Masks;

namespace SelfAttention.Kernels;

/// <summary>
/// Attention one query row at a time: scores against every visible key (four keys per pass over the query), a fused
/// stable softmax (or the plain sum) in place, then the weighted sum of value rows with the output block in registers.
/// It handles every option (weights output, sum normalisation) and is the decode path: with one query row it streams
/// K once and V once. Scratch: one row of <c>keyLength</c> scores, unless the weights row itself holds them.
/// </summary>
internal static unsafe class RowByRowAttention
{
    /// <summary>Query rows per work item: small enough to spread decode-sized calls over threads.</summary>
    public const int RowBlock = 16;

    /// <summary>Scratch floats one work item needs: a scores row, unless the weights row holds the scores.</summary>
    public static long ScratchLength(in AttentionProblem p) => p.Weights == null ? p.KeyLength : 0;

    /// <summary>
    /// Whether float scores give "divide by the sum" weights to float rounding. Sum weights do not depend on the scale,
    /// so they are exact for any scores whose rounding is small against their sum; two kinds are not: scores so small
    /// (below 2⁻⁶⁰, e.g. from a tiny scale or tiny inputs) that float has rounded them to few or no significant bits,
    /// and sums that cancel (|Σ s| ≤ 2⁻²⁰·Σ |s|), where each score's rounding is large against the sum. Those rows are
    /// recomputed exactly; a zero sum from exact zeros stays zeros there too.
    /// </summary>
    private static bool SumIsWellConditioned(float* s, int visible)
    {
        double sum = 0, magnitude = 0, largest = 0;
        for (int j = 0; j < visible; j++)
        {
            double x = s[j];
            sum += x;
            magnitude += Math.Abs(x);
            largest = Math.Max(largest, Math.Abs(x));
        }

        return visible == 0 || (largest >= 8.673617379884035e-19 && Math.Abs(sum) > magnitude * 9.5367431640625e-7);
    }

    /// <summary>
    /// Softmax of one row with the head's sink in the denominator and its log-sum-exp written when asked
    /// (<see cref="OnlineSoftmax.Close"/> over the row as one block). Returns the denominator relative to the row's own
    /// maximum, at least 1 for a row of finite scores, which is what <see cref="ExactRow.NeedsExact"/> tests; a row whose
    /// scores are all −∞ (a dense mask) with a sink is complete as written (zeros), so it returns 1.
    /// </summary>
    private static float SoftmaxWithSink<TV, TOps>(in AttentionProblem p, float* s, int visible, int batch, int head, int i)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        float max = visible == 0 ? float.NegativeInfinity : RowKernels.Max<TV, TOps>(ref Unsafe.AsRef<float>(s), visible);
        float sum = visible == 0 ? 0f : RowKernels.ExpSubtractSum<TV, TOps>(ref Unsafe.AsRef<float>(s), ref Unsafe.AsRef<float>(s), visible, OnlineSoftmax.Subtrahend(max));
        float sink = p.Sinks == null ? float.NegativeInfinity : p.Sinks[head];
        float lse = OnlineSoftmax.Close(max, sum, sink, out float inverse);
        RowKernels.Scale<TV, TOps>(ref Unsafe.AsRef<float>(s), visible, inverse);
        if (p.LogSumExp != null)
        {
            p.LogSumExp[p.LogSumExpIndex(batch, head, i)] = lse;
        }

        return max == float.NegativeInfinity && p.Sinks != null ? 1f : sum;
    }

    /// <summary>
    /// Computes query rows <c>[i0, i0 + RowBlock)</c> (clipped) of head (batch, head) under <paramref name="mask"/>: each
    /// row scores only the keys of its range, <c>[Start, End)</c>, at their own places in the scores (or weights) row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunBlock<TV, TOps, TMask>(in AttentionProblem p, TMask mask, int batch, int head, int i0)
        where TV : struct where TOps : struct, IFloatVector<TV> where TMask : unmanaged, IAttentionMask<TMask>
    {
        int queryLength = p.QueryLength, keyLength = p.KeyLength, headDim = p.HeadDim, valueDim = p.ValueDim;
        int end = Math.Min(queryLength, i0 + RowBlock);
        float* q = p.QueryHead(batch, head);
        float* k = p.KeyHead(batch, head);
        float* v = p.ValueHead(batch, head);
        float* o = p.OutputHead(batch, head);
        bool softmax = p.Normalization == AttentionNormalization.Softmax;
        fixed (float* scratch = p.Weights == null ? ThreadScratch.Get(ScratchLength(p)) : default)
        {
            for (int i = i0; i < end; i++)
            {
                KeyRange keys = mask.Keys(i);
                int first = keys.Start, visible = keys.Count;
                float* row = p.Weights == null ? scratch : p.WeightsRow(batch, head, i);
                float* s = row + first;
                RowKernels.Scores<TV, TOps>(ref q[i * p.QueryRowStride], ref k[first * p.KeyRowStride], p.KeyRowStride, visible, headDim, p.Scale, ref Unsafe.AsRef<float>(s));
                // A score that is not finite came from float overflow (or from ±∞/NaN in the inputs): the row is
                // computed exactly. Sum normalisation has no denominator to check (it is taken in double).
                if (!RowKernels.AllFinite<TV, TOps>(ref Unsafe.AsRef<float>(s), visible))
                {
                    ExactRow.Compute(p, mask, batch, head, i);
                    continue;
                }

                if (TMask.ModifiesScores)
                {
                    // Softcap, ALiBi, a dense mask: after the overflow test (a dense mask's −∞ is a hidden key, not an overflow).
                    mask.ModifyRow<TV, TOps>(s, i, first, visible);
                }

                if (!TMask.IsRange)
                {
                    // After the overflow test: hidden keys weigh e^(−∞) = 0 under softmax, and add 0 to the plain sum.
                    for (int j = first; j < keys.End; j++)
                    {
                        if (!mask.IsVisible(i, j))
                        {
                            row[j] = softmax ? float.NegativeInfinity : 0f;
                        }
                    }
                }

                float rowSum = 1f;
                if (softmax && (p.Sinks != null || p.LogSumExp != null))
                {
                    rowSum = SoftmaxWithSink<TV, TOps>(p, s, visible, batch, head, i);
                }
                else if (softmax)
                {
                    rowSum = RowKernels.Softmax<TV, TOps>(ref Unsafe.AsRef<float>(s), ref Unsafe.AsRef<float>(s), visible);
                }
                else if (SumIsWellConditioned(s, visible))
                {
                    RowKernels.SumNormalize<TV, TOps>(ref Unsafe.AsRef<float>(s), ref Unsafe.AsRef<float>(s), visible);
                }
                else
                {
                    ExactRow.Compute(p, mask, batch, head, i);
                    continue;
                }

                if (p.Weights != null)
                {
                    new Span<float>(row, first).Clear();
                    new Span<float>(row + keys.End, keyLength - keys.End).Clear();
                }

                float* outputRow = o + i * p.OutputRowStride;
                if (TMask.IsRange)
                {
                    RowKernels.WeightedSum<TV, TOps>(ref Unsafe.AsRef<float>(s), visible, ref v[first * p.ValueRowStride], p.ValueRowStride, valueDim, ref outputRow[0]);
                }
                else
                {
                    // Only the keys the row sees, so that a hidden non-finite value cannot leak in as 0·∞.
                    new Span<float>(outputRow, valueDim).Clear();
                    for (int j = first; j < keys.End; j++)
                    {
                        if (mask.IsVisible(i, j))
                        {
                            RowKernels.MultiplyAddRow<TV, TOps>(ref v[j * p.ValueRowStride], row[j], ref outputRow[0], valueDim);
                        }
                    }
                }

                if (ExactRow.NeedsExact<TV, TOps>(rowSum, visible, outputRow, valueDim))
                {
                    ExactRow.Compute(p, mask, batch, head, i);
                }
            }
        }
    }
}
