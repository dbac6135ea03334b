using System.Runtime.CompilerServices;

namespace SelfAttention.Kernels;

/// <summary>
/// The online-softmax state shared by the tiled and decode kernels (Milakov and Gimelshein, 2018; FlashAttention,
/// Dao et al., 2022). Per query row it keeps the running max <c>m</c> (from −∞), the running denominator <c>l</c>
/// (from 0) and an output accumulator <c>acc</c> (from 0). A block of scores s updates it as
/// <code>
/// m'    = max(m, max_j s_j)
/// alpha = e^(m − μ),  p_j = e^(s_j − μ),  with μ = m' unless m' = −∞, where μ = 0
/// l     = l·alpha + Σ_j p_j,   acc = acc·alpha + Σ_j p_j·v_j,   m = m'
/// </code>
/// and the row is written as <c>acc / l</c>, or 0 when <c>l = 0</c>.
/// <para>
/// The one rule for the edge cases, the same in every kernel:
/// <list type="bullet">
/// <item>−∞ maxima: while a row has seen only −∞ (masked) scores its max is −∞, and subtracting it would give
/// −∞ − (−∞) = NaN; μ = 0 instead, so those scores weigh e^(−∞) = 0 and alpha = 0 leaves l = 0 and acc = 0.</item>
/// <item>A fully masked row (nothing visible at all) therefore ends with l = 0 and is written as zeros.</item>
/// <item>NaN propagates: a NaN score (which a hardware max may skip) still gives a NaN weight, so l and the row are
/// NaN; kernels send such rows to <see cref="ExactRow"/>, which gives the reference's NaN.</item>
/// </list>
/// Masked scores are −∞ before the max is taken (or are simply outside the keys a kernel visits), never a finite
/// sentinel.
/// </para>
/// </summary>
internal static unsafe class OnlineSoftmax
{
    /// <summary>μ for a running max m': m' itself, or 0 while m' is −∞ (NaN stays NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Subtrahend(float mNew) => mNew < float.MinValue ? 0f : mNew;

    /// <summary><see cref="Subtrahend(float)"/> lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Subtrahend<TV, TOps>(TV mNew)
        where TV : struct where TOps : struct, IFloatVector<TV> =>
        TOps.SelectWhereLess(mNew, TOps.Create(float.MinValue), TOps.Zero, mNew);

    /// <summary>The factor that turns the accumulator into the output row: <c>1 / l</c>, or 0 for a row that saw nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Inverse(float l) => l == 0f ? 0f : 1f / l;

    /// <summary>
    /// Closes a row's state with the head's attention sink (GPT-OSS: a logit that joins the denominator and has no value;
    /// −∞ for none): with <c>μ = max(m, sink)</c>, the denominator is <c>D = l·e^(m − μ) + e^(sink − μ)</c>, the
    /// accumulator's factor <c>e^(m − μ) / D</c> (0 when D = 0), and the returned log-sum-exp <c>μ + ln D</c>, the
    /// natural log of the row's whole softmax denominator (−∞ for a row that sees no key and has no sink). Without a
    /// sink the factor is <c>1 / l</c>, as <see cref="Inverse"/>. Once per row, so in accurate float.
    /// </summary>
    public static float Close(float m, float l, float sink, out float inverse)
    {
        float mu = MathF.Max(m, sink);
        if (mu == float.NegativeInfinity)
        {
            inverse = 0f;
            return float.NegativeInfinity;
        }

        float alpha = MathF.Exp(m - mu);
        float denominator = l * alpha + MathF.Exp(sink - mu);
        inverse = denominator == 0f ? 0f : alpha / denominator;
        return denominator == 0f ? float.NegativeInfinity : mu + MathF.Log(denominator);
    }

    /// <summary>The log-sum-exp of row i of head (batch, head) when it sees no key (its output is zeros): the sink, or −∞; written only when the call asked for it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteEmptyRow(in AttentionProblem p, int batch, int head, int i)
    {
        if (p.LogSumExp != null)
        {
            p.LogSumExp[p.LogSumExpIndex(batch, head, i)] = p.Sinks == null ? float.NegativeInfinity : p.Sinks[head];
        }
    }

    /// <summary>
    /// One step for one row (the decode kernel: a lane is a row, its scores a contiguous run): takes the block's
    /// visible scores <c>s[visible.Start..visible.End)</c>, replaces them by <c>p_j</c> and every other score of the
    /// block's <paramref name="count"/> by 0, updates m and l, and returns alpha (1 when nothing was visible, so the
    /// caller may skip rescaling the accumulator).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float StepRow<TV, TOps>(float* s, int count, Masks.KeyRange visible, ref float m, ref float l)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        if (visible.Count == 0)
        {
            new Span<float>(s, count).Clear();
            return 1f;
        }

        float mNew = MathF.Max(m, RowKernels.Max<TV, TOps>(ref s[visible.Start], visible.Count));
        float mu = Subtrahend(mNew);
        float alpha = FastExp.Exp(m - mu);
        float sum = RowKernels.ExpSubtractSum<TV, TOps>(ref s[visible.Start], ref s[visible.Start], visible.Count, mu);
        new Span<float>(s, visible.Start).Clear();
        new Span<float>(s + visible.End, count - visible.End).Clear();
        l = l * alpha + sum;
        m = mNew;
        return alpha;
    }

    /// <summary>
    /// One step for a block of rows held in vector lanes (the tiled kernel: <c>Sᵀ[j][r]</c>, row r in lane r), given
    /// the new running max <c>m' = max(m, max_j Sᵀ[j])</c> in <paramref name="mNext"/>: <c>Pᵀ[j] = e^(Sᵀ[j] − μ)</c>
    /// in place, <c>alpha = e^(m − μ)</c>, <c>l = l·alpha + Σ_j Pᵀ[j]</c>, <c>m = m'</c>. st: [keyCount][columns]
    /// with row stride <paramref name="stride"/>; m, mNext, l, alpha: [columns]; columns a multiple of the lane count.
    /// The sums are kept in two partial sums, the even keys' and the odd keys', so a caller that leaves out keys whose
    /// weights are 0 gets the same bits so long as it starts at an even key. Inlined, so that a caller whose stride is
    /// a JIT-time constant gets constant strides in the exp loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StepColumns<TV, TOps>(float* st, int keyCount, int stride, int columns, float* m, float* mNext, float* l, float* alpha)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count;
        for (int t = 0; t < columns; t += w)
        {
            TV mOld = TOps.Load(ref m[0], (nuint)t);
            TV mNew = TOps.Load(ref mNext[0], (nuint)t);
            float* s = st + t;
            TV mu = Subtrahend<TV, TOps>(mNew);
            TV a = FastExp.Exp<TV, TOps>(TOps.Subtract(mOld, mu));
            TV sum0 = TOps.Zero, sum1 = TOps.Zero;
            int jj = 0;
            for (; jj + 2 <= keyCount; jj += 2)
            {
                TV p0 = FastExp.Exp<TV, TOps>(TOps.Subtract(TOps.Load(ref s[0], (nuint)(jj * stride)), mu));
                TV p1 = FastExp.Exp<TV, TOps>(TOps.Subtract(TOps.Load(ref s[0], (nuint)((jj + 1) * stride)), mu));
                TOps.Store(p0, ref s[0], (nuint)(jj * stride));
                TOps.Store(p1, ref s[0], (nuint)((jj + 1) * stride));
                sum0 = TOps.Add(sum0, p0);
                sum1 = TOps.Add(sum1, p1);
            }

            if (jj < keyCount)
            {
                TV p0 = FastExp.Exp<TV, TOps>(TOps.Subtract(TOps.Load(ref s[0], (nuint)(jj * stride)), mu));
                TOps.Store(p0, ref s[0], (nuint)(jj * stride));
                sum0 = TOps.Add(sum0, p0);
            }

            TOps.Store(mNew, ref m[0], (nuint)t);
            TOps.Store(a, ref alpha[0], (nuint)t);
            TOps.Store(TOps.MultiplyAdd(TOps.Load(ref l[0], (nuint)t), a, TOps.Add(sum0, sum1)), ref l[0], (nuint)t);
        }
    }
}
