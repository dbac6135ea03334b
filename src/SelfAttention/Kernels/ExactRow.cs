using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace SelfAttention.Kernels;

/// <summary>
/// One query row recomputed in double precision: the fallback that makes every kernel's answer exact to float
/// rounding for any finite input.
/// <para>
/// The fast kernels compute scores and sums in float. For finite inputs that only fails when a float intermediate
/// leaves float's range: a score <c>q·k</c> (or the tiled kernel's pre-scaled query <c>q·scale</c>) overflows to ±∞,
/// which gives NaN rows (∞ − ∞) or rows that wrongly look empty (every score −∞), or the value sum overflows. Each
/// kernel detects this per row at no measurable cost, through <see cref="NeedsExact"/> (the tiled kernel through the
/// same test on flags its output pass leaves), and calls
/// <see cref="Compute"/>, whose scores cannot overflow: <c>|q·k·scale| ≤ 2³¹·(3.4·10³⁸)²·3.4·10³⁸ ≈ 10¹²⁵</c>, far inside
/// double. NaN or ∞ in the inputs still propagate as in the reference (such rows are recomputed too, to the same NaN).
/// </para>
/// <para>
/// Passes: the scores in double (on the stack up to 1,024 keys, else in an array rented from the shared pool) with their
/// maximum (softmax) or sum (sum normalisation), then the weights, then the weighted sum of value rows in blocks of
/// <see cref="ChannelBlock"/> channels (a double accumulator on the stack), then the weights row when the call asked
/// for it. Scalar: it runs only for rows the fast path could not represent.
/// </para>
/// </summary>
internal static unsafe class ExactRow
{
    /// <summary>Output channels accumulated per pass over the keys (2 KiB of doubles on the stack).</summary>
    private const int ChannelBlock = 256;

    /// <summary>
    /// Whether a row the fast kernel wrote must be recomputed: it sees at least one key, yet its softmax denominator
    /// is not at least 1 (the maximum's own term is e⁰ = 1, so anything less, 0 or NaN means a score left float's range)
    /// or its output is not finite. <paramref name="rowSum"/> is ignored for sum normalisation (pass 1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool NeedsExact<TV, TOps>(float rowSum, int visible, float* output, int valueDim)
        where TV : struct where TOps : struct, IFloatVector<TV> =>
        visible > 0 && (!(rowSum >= 0.5f) || !RowKernels.AllFinite<TV, TOps>(ref output[0], valueDim));

    /// <summary>
    /// Recomputes output row <paramref name="i"/> of head (batch, head) under <paramref name="mask"/> (bound to that head),
    /// and its weights row when the problem has weights.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Compute<TMask>(in AttentionProblem p, in TMask mask, int batch, int head, int i)
        where TMask : unmanaged, Masks.IAttentionMask<TMask>
    {
        Masks.KeyRange keys = mask.Keys(i);
        int visible = keys.Count;
        double[]? rented = visible > StackScores ? ArrayPool<double>.Shared.Rent(visible) : null;
        try
        {
            Span<double> scores = rented is null ? stackalloc double[StackScores] : rented;
            ComputeRow(p, mask, batch, head, i, keys, scores[..visible]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<double>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Scores up to this many keys live on the stack (8 KiB); longer rows rent from the shared pool.</summary>
    private const int StackScores = 1024;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ComputeRow<TMask>(in AttentionProblem p, in TMask mask, int batch, int head, int i, Masks.KeyRange keys, Span<double> scores)
        where TMask : unmanaged, Masks.IAttentionMask<TMask>
    {
        // scores[j] holds key first + j; a key inside the range that the row does not see has weight 0 and is skipped.
        int first = keys.Start, visible = keys.Count;
        bool softmax = p.Normalization == AttentionNormalization.Softmax;
        float* q = p.QueryHead(batch, head) + i * p.QueryRowStride;
        float* o = p.OutputHead(batch, head) + i * p.OutputRowStride;
        var row = new Row(p, batch, head, q);

        // Pass 1: the scores (modified when the mask modifies them), and their maximum (softmax) or their plain sum.
        double max = double.NegativeInfinity, sum = 0;
        int seen = visible;
        for (int j = 0; j < visible; j++)
        {
            if (!TMask.IsRange && !mask.IsVisible(i, first + j))
            {
                scores[j] = softmax ? double.NegativeInfinity : 0;
                seen--;
                continue;
            }

            double s = row.Score(first + j);
            if (TMask.ModifiesScores)
            {
                s = mask.ModifyScore(s, i, first + j);
            }

            scores[j] = s;
            if (softmax)
            {
                max = Math.Max(max, s);
            }
            else
            {
                sum += s;
            }
        }

        // Pass 2: the unnormalised weights e^(s − μ) and their sum, then the weights (a row that sees nothing: zeros).
        // μ is the max of the scores and the head's sink, which joins the sum with no value. A score of −∞ (a dense
        // mask's hidden key) gets weight −0, which pass 3 skips like a key outside the mask, so that 0·∞ cannot leak in.
        double sink = p.Sinks == null ? double.NegativeInfinity : p.Sinks[head];
        double mu = Math.Max(max, sink);
        if (softmax && (seen == 0 || mu == double.NegativeInfinity))
        {
            scores.Clear();
            sum = sink == double.NegativeInfinity ? 0 : 1;
        }
        else if (softmax)
        {
            for (int j = 0; j < visible; j++)
            {
                scores[j] = scores[j] == double.NegativeInfinity ? -0.0 : Math.Exp(scores[j] - mu);
                sum += scores[j];
            }

            sum += sink == double.NegativeInfinity ? 0 : Math.Exp(sink - mu);
        }

        if (p.LogSumExp != null)
        {
            p.LogSumExp[p.LogSumExpIndex(batch, head, i)] = sum == 0 ? float.NegativeInfinity : (float)(mu + Math.Log(sum));
        }

        double inverse = sum == 0 ? 0 : 1 / sum;
        for (int j = 0; j < visible; j++)
        {
            scores[j] *= inverse;
        }

        // Pass 3: output = Σ_j w_j·v_j, a block of channels at a time.
        Span<double> acc = stackalloc double[ChannelBlock];
        for (int c0 = 0; c0 < p.ValueDim; c0 += ChannelBlock)
        {
            int width = Math.Min(ChannelBlock, p.ValueDim - c0);
            acc.Clear();
            for (int j = 0; j < visible; j++)
            {
                if ((TMask.IsRange || mask.IsVisible(i, first + j)) && !(TMask.ModifiesScores && scores[j] == 0 && double.IsNegative(scores[j])))
                {
                    row.AddValue(first + j, c0, width, scores[j], acc);
                }
            }

            for (int c = 0; c < width; c++)
            {
                o[c0 + c] = (float)acc[c];
            }
        }

        // Pass 4: the weights row (a call with weights), masked entries 0.
        if (p.Weights != null)
        {
            float* w = p.WeightsRow(batch, head, i);
            for (int j = 0; j < p.KeyLength; j++)
            {
                w[j] = j >= first && j < keys.End ? (float)scores[j - first] + 0f : 0f;
            }
        }
    }

    /// <summary>One query row and its head's keys and values, float or a low-precision cache's, read in double.</summary>
    private readonly struct Row
    {
        private readonly float* _q, _k, _v;
        private readonly AttentionProblem _problem;
        private readonly bool _stored;
        private readonly int _batch, _kvHead;
        private readonly nint _keyStride, _valueStride;
        private readonly int _headDim;
        private readonly double _scale;

        public Row(in AttentionProblem p, int batch, int head, float* q)
        {
            _q = q;
            _problem = p;
            _stored = p.Storage != KvCacheStorage.Single;
            _batch = batch;
            _kvHead = head / p.GroupSize;
            _k = !_stored ? p.KeyHead(batch, head) : null;
            _v = !_stored ? p.ValueHead(batch, head) : null;
            _keyStride = p.KeyRowStride;
            _valueStride = p.ValueRowStride;
            _headDim = p.HeadDim;
            _scale = p.Scale;
        }

        /// <summary><c>(q · k_j) · scale</c>, summed in double (four lanes of doubles where the hardware has them).</summary>
        public double Score(int j)
        {
            double dot = 0;
            if (!_stored)
            {
                float* k = _k + j * _keyStride;
                int c = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    Vector256<double> sum = Vector256<double>.Zero;
                    for (; c + 4 <= _headDim; c += 4)
                    {
                        sum = Vector256.FusedMultiplyAdd(Widen(_q + c), Widen(k + c), sum);
                    }

                    dot = Vector256.Sum(sum);
                }

                for (; c < _headDim; c++)
                {
                    dot += (double)_q[c] * k[c];
                }
            }
            else
            {
                for (int c = 0; c < _headDim; c++)
                {
                    dot += (double)_q[c] * SelfAttention.Kernels.Widen.Element(_problem, key: true, _batch, _kvHead, j, c);
                }
            }

            return dot * _scale;
        }

        /// <summary><c>acc[c] += weight · v[j][c0 + c]</c> for <c>c &lt; width</c>, in double.</summary>
        public void AddValue(int j, int c0, int width, double weight, Span<double> acc)
        {
            int c = 0;
            if (!_stored)
            {
                float* v = _v + j * _valueStride + c0;
                if (Vector256.IsHardwareAccelerated)
                {
                    var w = Vector256.Create(weight);
                    ref double a = ref MemoryMarshal.GetReference(acc);
                    for (; c + 4 <= width; c += 4)
                    {
                        Vector256.FusedMultiplyAdd(w, Widen(v + c), Vector256.LoadUnsafe(ref a, (nuint)c)).StoreUnsafe(ref a, (nuint)c);
                    }
                }

                for (; c < width; c++)
                {
                    acc[c] += weight * v[c];
                }

                return;
            }

            for (; c < width; c++)
            {
                acc[c] += weight * SelfAttention.Kernels.Widen.Element(_problem, key: false, _batch, _kvHead, j, c0 + c);
            }
        }

        /// <summary>Four floats widened to four doubles.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> Widen(float* x) => Vector256.WidenLower(Vector128.Load(x).ToVector256());
    }
}
