using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace SelfAttention.Kernels;

/// <summary>
/// The row-level building blocks, each one generic body over <see cref="IFloatVector{TV}"/>: a vector loop at the
/// chosen width, then the same steps at width one for the tail. Callers have validated every length, so the bodies
/// read and write through <c>ref float</c> without bounds checks.
/// </summary>
internal static class RowKernels
{
    /// <summary><c>Σ_c x[c]·y[c]</c>; x, y: [length].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot<TV, TOps>(ref float x, ref float y, int length)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        // Two accumulators hide the FMA latency; the tail is summed in the same order at every width.
        TV acc0 = TOps.Zero, acc1 = TOps.Zero;
        nuint c = 0, n = (nuint)length, w = (nuint)TOps.Count;
        for (; c + 2 * w <= n; c += 2 * w)
        {
            acc0 = TOps.MultiplyAdd(TOps.Load(ref x, c), TOps.Load(ref y, c), acc0);
            acc1 = TOps.MultiplyAdd(TOps.Load(ref x, c + w), TOps.Load(ref y, c + w), acc1);
        }

        if (c + w <= n)
        {
            acc0 = TOps.MultiplyAdd(TOps.Load(ref x, c), TOps.Load(ref y, c), acc0);
            c += w;
        }

        float sum = TOps.Sum(TOps.Add(acc0, acc1));
        for (; c < n; c++)
        {
            sum = ScalarOps.MultiplyAdd(Unsafe.Add(ref x, c), Unsafe.Add(ref y, c), sum);
        }

        return sum;
    }

    /// <summary>
    /// <c>scores[j] = (q · k_j) · scale</c> for <c>j &lt; keyCount</c>, four keys at a time so that each loaded query
    /// vector feeds four FMAs. q: [headDim]; k: [keyCount, headDim] with row stride <paramref name="keyStride"/>; scores: [keyCount].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scores<TV, TOps>(ref float q, ref float k, nint keyStride, int keyCount, int headDim, float scale, ref float scores)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        nuint n = (nuint)headDim, w = (nuint)TOps.Count;
        int j = 0;
        for (; j + 4 <= keyCount; j += 4)
        {
            ref float k0 = ref Unsafe.Add(ref k, j * keyStride);
            ref float k1 = ref Unsafe.Add(ref k0, keyStride);
            ref float k2 = ref Unsafe.Add(ref k1, keyStride);
            ref float k3 = ref Unsafe.Add(ref k2, keyStride);
            Prefetch.Row(ref k0, Prefetch.RowsAhead * keyStride);
            Prefetch.Row(ref k1, Prefetch.RowsAhead * keyStride);
            Prefetch.Row(ref k2, Prefetch.RowsAhead * keyStride);
            Prefetch.Row(ref k3, Prefetch.RowsAhead * keyStride);
            TV a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
            nuint c = 0;
            for (; c + w <= n; c += w)
            {
                TV qv = TOps.Load(ref q, c);
                a0 = TOps.MultiplyAdd(qv, TOps.Load(ref k0, c), a0);
                a1 = TOps.MultiplyAdd(qv, TOps.Load(ref k1, c), a1);
                a2 = TOps.MultiplyAdd(qv, TOps.Load(ref k2, c), a2);
                a3 = TOps.MultiplyAdd(qv, TOps.Load(ref k3, c), a3);
            }

            float s0 = TOps.Sum(a0), s1 = TOps.Sum(a1), s2 = TOps.Sum(a2), s3 = TOps.Sum(a3);
            for (; c < n; c++)
            {
                float qc = Unsafe.Add(ref q, c);
                s0 = ScalarOps.MultiplyAdd(qc, Unsafe.Add(ref k0, c), s0);
                s1 = ScalarOps.MultiplyAdd(qc, Unsafe.Add(ref k1, c), s1);
                s2 = ScalarOps.MultiplyAdd(qc, Unsafe.Add(ref k2, c), s2);
                s3 = ScalarOps.MultiplyAdd(qc, Unsafe.Add(ref k3, c), s3);
            }

            Unsafe.Add(ref scores, j) = s0 * scale;
            Unsafe.Add(ref scores, j + 1) = s1 * scale;
            Unsafe.Add(ref scores, j + 2) = s2 * scale;
            Unsafe.Add(ref scores, j + 3) = s3 * scale;
        }

        for (; j < keyCount; j++)
        {
            Unsafe.Add(ref scores, j) = Dot<TV, TOps>(ref q, ref Unsafe.Add(ref k, j * keyStride), headDim) * scale;
        }
    }

    /// <summary>
    /// <c>scores[t] = (q · k_t) · scale</c> for the eight keys <c>k_t = k + t·keyStride</c>, t &lt; 8: each loaded query
    /// vector feeds eight FMAs, and the eight sums are reduced together (<see cref="IFloatVector{TV}.StoreSums"/>).
    /// Inlined, so a caller's loop over heads keeps its loads back to back: the decode kernel streams K through this
    /// and is limited by how many cache misses it keeps in flight. q: [headDim]; k: [8, headDim] with row stride
    /// <paramref name="keyStride"/>; scores: [8]. <paramref name="headDim"/> is a multiple of the vector width.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ScoresEightRows<TV, TOps>(ref float q, ref float k, nint keyStride, int headDim, float scale, ref float scores)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        Debug.Assert(headDim % TOps.Count == 0);
        nuint n = (nuint)headDim, w = (nuint)TOps.Count;
        ref float k1 = ref Unsafe.Add(ref k, keyStride);
        ref float k2 = ref Unsafe.Add(ref k1, keyStride);
        ref float k3 = ref Unsafe.Add(ref k2, keyStride);
        ref float k4 = ref Unsafe.Add(ref k3, keyStride);
        ref float k5 = ref Unsafe.Add(ref k4, keyStride);
        ref float k6 = ref Unsafe.Add(ref k5, keyStride);
        ref float k7 = ref Unsafe.Add(ref k6, keyStride);
        TV a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero, a4 = TOps.Zero, a5 = TOps.Zero, a6 = TOps.Zero, a7 = TOps.Zero;
        for (nuint c = 0; c < n; c += w)
        {
            TV qv = TOps.Load(ref q, c);
            a0 = TOps.MultiplyAdd(qv, TOps.Load(ref k, c), a0);
            a1 = TOps.MultiplyAdd(qv, TOps.Load(ref k1, c), a1);
            a2 = TOps.MultiplyAdd(qv, TOps.Load(ref k2, c), a2);
            a3 = TOps.MultiplyAdd(qv, TOps.Load(ref k3, c), a3);
            a4 = TOps.MultiplyAdd(qv, TOps.Load(ref k4, c), a4);
            a5 = TOps.MultiplyAdd(qv, TOps.Load(ref k5, c), a5);
            a6 = TOps.MultiplyAdd(qv, TOps.Load(ref k6, c), a6);
            a7 = TOps.MultiplyAdd(qv, TOps.Load(ref k7, c), a7);
        }

        TOps.StoreSums(a0, a1, a2, a3, scale, ref scores);
        TOps.StoreSums(a4, a5, a6, a7, scale, ref Unsafe.Add(ref scores, 4));
    }

    /// <summary>The largest of <c>s[0..length)</c>, −∞ when empty, NaN when any element is NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Max<TV, TOps>(ref float s, int length)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        nuint i = 0, n = (nuint)length, w = (nuint)TOps.Count;
        float max = float.NegativeInfinity;
        if (n >= w)
        {
            TV m = TOps.Create(float.NegativeInfinity);
            for (; i + w <= n; i += w)
            {
                m = TOps.Max(m, TOps.Load(ref s, i));
            }

            max = TOps.MaxAcross(m);
        }

        for (; i < n; i++)
        {
            max = MathF.Max(max, Unsafe.Add(ref s, i));
        }

        return max;
    }

    /// <summary>
    /// The fused middle of a stable softmax: <c>destination[j] = e^(source[j] − max)</c>, returning <c>Σ_j destination[j]</c>.
    /// source, destination: [length]; they may be the same memory (each element is read before it is written).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ExpSubtractSum<TV, TOps>(ref float source, ref float destination, int length, float max)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        nuint i = 0, n = (nuint)length, w = (nuint)TOps.Count;
        TV maxV = TOps.Create(max);
        TV sum0 = TOps.Zero, sum1 = TOps.Zero;
        for (; i + 2 * w <= n; i += 2 * w)
        {
            TV e0 = FastExp.Exp<TV, TOps>(TOps.Subtract(TOps.Load(ref source, i), maxV));
            TV e1 = FastExp.Exp<TV, TOps>(TOps.Subtract(TOps.Load(ref source, i + w), maxV));
            TOps.Store(e0, ref destination, i);
            TOps.Store(e1, ref destination, i + w);
            sum0 = TOps.Add(sum0, e0);
            sum1 = TOps.Add(sum1, e1);
        }

        if (i + w <= n)
        {
            TV e0 = FastExp.Exp<TV, TOps>(TOps.Subtract(TOps.Load(ref source, i), maxV));
            TOps.Store(e0, ref destination, i);
            sum0 = TOps.Add(sum0, e0);
            i += w;
        }

        float sum = TOps.Sum(TOps.Add(sum0, sum1));
        for (; i < n; i++)
        {
            float e = FastExp.Exp(Unsafe.Add(ref source, i) - max);
            Unsafe.Add(ref destination, i) = e;
            sum += e;
        }

        return sum;
    }

    /// <summary><c>s[j] *= factor</c> for <c>j &lt; length</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale<TV, TOps>(ref float s, int length, float factor)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        nuint i = 0, n = (nuint)length, w = (nuint)TOps.Count;
        TV f = TOps.Create(factor);
        for (; i + w <= n; i += w)
        {
            TOps.Store(TOps.Multiply(TOps.Load(ref s, i), f), ref s, i);
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref s, i) *= factor;
        }
    }

    /// <summary><c>accumulator[c] += a · x[c]</c> for <c>c &lt; length</c> (an axpy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAddRow<TV, TOps>(ref float x, float a, ref float accumulator, int length)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        nuint i = 0, n = (nuint)length, w = (nuint)TOps.Count;
        TV factor = TOps.Create(a);
        for (; i + w <= n; i += w)
        {
            TOps.Store(TOps.MultiplyAdd(factor, TOps.Load(ref x, i), TOps.Load(ref accumulator, i)), ref accumulator, i);
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref accumulator, i) = ScalarOps.MultiplyAdd(a, Unsafe.Add(ref x, i), Unsafe.Add(ref accumulator, i));
        }
    }

    /// <summary>
    /// <c>accumulator[c] += Σ_{t &lt; 4} a[t] · x_t[c]</c> over four rows of x, <paramref name="stride"/> floats apart, with one
    /// load and store of the accumulator per vector instead of four.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAddFourRows<TV, TOps>(ref float x, nint stride, float a0, float a1, float a2, float a3, ref float accumulator, int length)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        nuint i = 0, n = (nuint)length, w = (nuint)TOps.Count;
        ref float x1 = ref Unsafe.Add(ref x, stride);
        ref float x2 = ref Unsafe.Add(ref x1, stride);
        ref float x3 = ref Unsafe.Add(ref x2, stride);
        TV f0 = TOps.Create(a0), f1 = TOps.Create(a1), f2 = TOps.Create(a2), f3 = TOps.Create(a3);
        for (; i + w <= n; i += w)
        {
            TV acc = TOps.MultiplyAdd(f0, TOps.Load(ref x, i), TOps.Load(ref accumulator, i));
            acc = TOps.MultiplyAdd(f1, TOps.Load(ref x1, i), acc);
            acc = TOps.MultiplyAdd(f2, TOps.Load(ref x2, i), acc);
            TOps.Store(TOps.MultiplyAdd(f3, TOps.Load(ref x3, i), acc), ref accumulator, i);
        }

        for (; i < n; i++)
        {
            float acc = ScalarOps.MultiplyAdd(a0, Unsafe.Add(ref x, i), Unsafe.Add(ref accumulator, i));
            acc = ScalarOps.MultiplyAdd(a1, Unsafe.Add(ref x1, i), acc);
            acc = ScalarOps.MultiplyAdd(a2, Unsafe.Add(ref x2, i), acc);
            Unsafe.Add(ref accumulator, i) = ScalarOps.MultiplyAdd(a3, Unsafe.Add(ref x3, i), acc);
        }
    }

    /// <summary>
    /// <c>accumulator[c] += Σ_{t &lt; 8} a[t] · x_t[c]</c> over eight rows of x, <paramref name="stride"/> floats apart: one
    /// load and store of the accumulator per vector for eight rows, and two independent chains of four FMAs.
    /// Inlined for the same reason as <see cref="ScoresEightRows{TV, TOps}"/>. a: [8]; accumulator: [length].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyAddEightRows<TV, TOps>(ref float x, nint stride, ref float a, ref float accumulator, int length)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        nuint i = 0, n = (nuint)length, w = (nuint)TOps.Count;
        ref float x1 = ref Unsafe.Add(ref x, stride);
        ref float x2 = ref Unsafe.Add(ref x1, stride);
        ref float x3 = ref Unsafe.Add(ref x2, stride);
        ref float x4 = ref Unsafe.Add(ref x3, stride);
        ref float x5 = ref Unsafe.Add(ref x4, stride);
        ref float x6 = ref Unsafe.Add(ref x5, stride);
        ref float x7 = ref Unsafe.Add(ref x6, stride);
        float a0 = a, a1 = Unsafe.Add(ref a, 1), a2 = Unsafe.Add(ref a, 2), a3 = Unsafe.Add(ref a, 3);
        float a4 = Unsafe.Add(ref a, 4), a5 = Unsafe.Add(ref a, 5), a6 = Unsafe.Add(ref a, 6), a7 = Unsafe.Add(ref a, 7);
        TV f0 = TOps.Create(a0), f1 = TOps.Create(a1), f2 = TOps.Create(a2), f3 = TOps.Create(a3);
        TV f4 = TOps.Create(a4), f5 = TOps.Create(a5), f6 = TOps.Create(a6), f7 = TOps.Create(a7);
        for (; i + w <= n; i += w)
        {
            TV even = TOps.MultiplyAdd(f0, TOps.Load(ref x, i), TOps.Load(ref accumulator, i));
            TV odd = TOps.Multiply(f1, TOps.Load(ref x1, i));
            even = TOps.MultiplyAdd(f2, TOps.Load(ref x2, i), even);
            odd = TOps.MultiplyAdd(f3, TOps.Load(ref x3, i), odd);
            even = TOps.MultiplyAdd(f4, TOps.Load(ref x4, i), even);
            odd = TOps.MultiplyAdd(f5, TOps.Load(ref x5, i), odd);
            even = TOps.MultiplyAdd(f6, TOps.Load(ref x6, i), even);
            odd = TOps.MultiplyAdd(f7, TOps.Load(ref x7, i), odd);
            TOps.Store(TOps.Add(even, odd), ref accumulator, i);
        }

        for (; i < n; i++)
        {
            float even = ScalarOps.MultiplyAdd(a0, Unsafe.Add(ref x, i), Unsafe.Add(ref accumulator, i));
            float odd = a1 * Unsafe.Add(ref x1, i);
            even = ScalarOps.MultiplyAdd(a2, Unsafe.Add(ref x2, i), even);
            odd = ScalarOps.MultiplyAdd(a3, Unsafe.Add(ref x3, i), odd);
            even = ScalarOps.MultiplyAdd(a4, Unsafe.Add(ref x4, i), even);
            odd = ScalarOps.MultiplyAdd(a5, Unsafe.Add(ref x5, i), odd);
            even = ScalarOps.MultiplyAdd(a6, Unsafe.Add(ref x6, i), even);
            odd = ScalarOps.MultiplyAdd(a7, Unsafe.Add(ref x7, i), odd);
            Unsafe.Add(ref accumulator, i) = even + odd;
        }
    }

    /// <summary><c>Σ_j s[j]</c> for <c>j &lt; length</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Sum<TV, TOps>(ref float s, int length)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        nuint i = 0, n = (nuint)length, w = (nuint)TOps.Count;
        TV acc = TOps.Zero;
        for (; i + w <= n; i += w)
        {
            acc = TOps.Add(acc, TOps.Load(ref s, i));
        }

        float sum = TOps.Sum(acc);
        for (; i < n; i++)
        {
            sum += Unsafe.Add(ref s, i);
        }

        return sum;
    }

    /// <summary>
    /// Stable softmax of <c>source[0..length)</c> into <c>destination</c> (the same memory is allowed):
    /// max, then the fused exp-subtract-sum, then one multiply by <c>1/sum</c>. A row whose maximum is −∞ (every
    /// entry masked) becomes zeros rather than NaN.
    /// </summary>
    /// <returns>
    /// The denominator <c>Σ_j e^(source[j] − max)</c>: at least 1 for a row with a finite maximum (its own term is e⁰),
    /// 0 for an empty or all −∞ row, and NaN or ∞ when a score was NaN or +∞ (the caller then recomputes the row).
    /// </returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Softmax<TV, TOps>(ref float source, ref float destination, int length)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        float max = Max<TV, TOps>(ref source, length);
        if (max == float.NegativeInfinity)
        {
            Unsafe.InitBlockUnaligned(ref Unsafe.As<float, byte>(ref destination), 0, (uint)length * sizeof(float));
            return 0f;
        }

        float sum = ExpSubtractSum<TV, TOps>(ref source, ref destination, length, max);
        Scale<TV, TOps>(ref destination, length, 1f / sum);
        return sum;
    }

    /// <summary>
    /// "Divide by the sum": <c>destination[j] = source[j] / Σ source</c>, zeros when the sum is 0. The sum and the
    /// quotients are taken in double, so scores near float's limits neither overflow the sum (<c>[3e38, 3e38]</c> gives
    /// <c>[0.5, 0.5]</c>) nor the inverse (<c>[1e-40, 0]</c> gives <c>[1, 0]</c>); a weight is ±∞ only when the exact
    /// quotient is beyond float. Cheap next to the scores it normalises (one pass against headDim), so it stays scalar
    /// at every width; the type parameters keep the row kernels' one calling convention.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SumNormalize<TV, TOps>(ref float source, ref float destination, int length)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        double sum = 0;
        for (int j = 0; j < length; j++)
        {
            sum += Unsafe.Add(ref source, j);
        }

        double inverse = sum == 0 ? 0 : 1 / sum;
        for (int j = 0; j < length; j++)
        {
            Unsafe.Add(ref destination, j) = (float)(Unsafe.Add(ref source, j) * inverse);
        }
    }

    /// <summary>
    /// <c>output[c] = Σ_j weights[j] · v[j, c]</c>. weights: [count]; v: [count, valueDim] with row stride
    /// <paramref name="valueStride"/>; output: [valueDim]. Column blocks of four vectors stay in registers across all j,
    /// so each output element is stored once. Rows are reached by offsets from <paramref name="v"/>, never by stepping
    /// a reference, so no managed reference ever points past the last row (v may be an unpinned span).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WeightedSum<TV, TOps>(ref float weights, int count, ref float v, nint valueStride, int valueDim, ref float output)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        Debug.Assert(count >= 0 && valueDim >= 0);
        nuint c = 0, n = (nuint)valueDim, w = (nuint)TOps.Count;
        if (count == 0)
        {
            // No rows: v may be an empty buffer, so not even its first row is formed.
            Unsafe.InitBlockUnaligned(ref Unsafe.As<float, byte>(ref output), 0, (uint)valueDim * sizeof(float));
            return;
        }

        for (; c + 8 * w <= n; c += 8 * w)
        {
            // Eight vectors at once: a 128-float head (AVX-512) is one pass over V, not two.
            TV a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero, a4 = TOps.Zero, a5 = TOps.Zero, a6 = TOps.Zero, a7 = TOps.Zero;
            ref float column = ref Unsafe.Add(ref v, c);
            nint offset = 0;
            for (int j = 0; j < count; j++, offset += valueStride)
            {
                ref float vj = ref Unsafe.Add(ref column, offset);
                Prefetch.Row(ref vj, Prefetch.RowsAhead * valueStride);
                TV p = TOps.Create(Unsafe.Add(ref weights, j));
                a0 = TOps.MultiplyAdd(p, TOps.Load(ref vj, 0), a0);
                a1 = TOps.MultiplyAdd(p, TOps.Load(ref vj, w), a1);
                a2 = TOps.MultiplyAdd(p, TOps.Load(ref vj, 2 * w), a2);
                a3 = TOps.MultiplyAdd(p, TOps.Load(ref vj, 3 * w), a3);
                a4 = TOps.MultiplyAdd(p, TOps.Load(ref vj, 4 * w), a4);
                a5 = TOps.MultiplyAdd(p, TOps.Load(ref vj, 5 * w), a5);
                a6 = TOps.MultiplyAdd(p, TOps.Load(ref vj, 6 * w), a6);
                a7 = TOps.MultiplyAdd(p, TOps.Load(ref vj, 7 * w), a7);
            }

            TOps.Store(a0, ref output, c);
            TOps.Store(a1, ref output, c + w);
            TOps.Store(a2, ref output, c + 2 * w);
            TOps.Store(a3, ref output, c + 3 * w);
            TOps.Store(a4, ref output, c + 4 * w);
            TOps.Store(a5, ref output, c + 5 * w);
            TOps.Store(a6, ref output, c + 6 * w);
            TOps.Store(a7, ref output, c + 7 * w);
        }

        for (; c + 4 * w <= n; c += 4 * w)
        {
            TV a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
            ref float column = ref Unsafe.Add(ref v, c);
            nint offset = 0;
            for (int j = 0; j < count; j++, offset += valueStride)
            {
                ref float vj = ref Unsafe.Add(ref column, offset);
                TV p = TOps.Create(Unsafe.Add(ref weights, j));
                a0 = TOps.MultiplyAdd(p, TOps.Load(ref vj, 0), a0);
                a1 = TOps.MultiplyAdd(p, TOps.Load(ref vj, w), a1);
                a2 = TOps.MultiplyAdd(p, TOps.Load(ref vj, 2 * w), a2);
                a3 = TOps.MultiplyAdd(p, TOps.Load(ref vj, 3 * w), a3);
            }

            TOps.Store(a0, ref output, c);
            TOps.Store(a1, ref output, c + w);
            TOps.Store(a2, ref output, c + 2 * w);
            TOps.Store(a3, ref output, c + 3 * w);
        }

        for (; c + w <= n; c += w)
        {
            TV a0 = TOps.Zero;
            ref float column = ref Unsafe.Add(ref v, c);
            nint offset = 0;
            for (int j = 0; j < count; j++, offset += valueStride)
            {
                a0 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref weights, j)), TOps.Load(ref Unsafe.Add(ref column, offset), 0), a0);
            }

            TOps.Store(a0, ref output, c);
        }

        for (; c < n; c++)
        {
            float a0 = 0f;
            ref float column = ref Unsafe.Add(ref v, c);
            nint offset = 0;
            for (int j = 0; j < count; j++, offset += valueStride)
            {
                a0 = ScalarOps.MultiplyAdd(Unsafe.Add(ref weights, j), Unsafe.Add(ref column, offset), a0);
            }

            Unsafe.Add(ref output, c) = a0;
        }
    }

    /// <summary>True when every <c>x[0..length)</c> is finite: <c>x·0</c> is 0 for finite x and NaN for ±∞ and NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool AllFinite<TV, TOps>(ref float x, int length)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        nuint i = 0, n = (nuint)length, w = (nuint)TOps.Count;
        TV acc = TOps.Zero;
        for (; i + w <= n; i += w)
        {
            acc = TOps.MultiplyAdd(TOps.Load(ref x, i), TOps.Zero, acc);
        }

        float tail = 0f;
        for (; i < n; i++)
        {
            tail += Unsafe.Add(ref x, i) * 0f;
        }

        return !float.IsNaN(TOps.Sum(acc) + tail);
    }
}
