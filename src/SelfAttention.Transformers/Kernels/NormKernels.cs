using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using SelfAttention.Kernels;

namespace SelfAttention.Transformers.Kernels;

/// <summary>
/// LayerNorm and RMSNorm over the rows of a row-major matrix, with an optional residual added first, at the widest
/// accelerated width. Each row is read two or three times, all from L1 for the widths transformers use.
/// <para>
/// LayerNorm uses the corrected two-pass algorithm (Chan, Golub and LeVeque, 1983): a first pass gives a provisional
/// mean m₀; the second sums <c>d = s − m₀</c> and <c>d²</c>, so <c>mean = m₀ + Σd/n</c> and
/// <c>var = (Σd² − (Σd)²/n)/n</c> are accurate even when the mean is large against the spread (a row of 10⁴ ± 1), where
/// <c>E[s²] − E[s]²</c> in float would lose every digit. The row statistics and <c>1/√(var + ε)</c> are formed in
/// double (once per row). A row whose float squares overflow or reach the subnormal range (|s| beyond about 10¹⁹ or
/// below 10⁻¹⁵), or whose scale 1/σ is past 2¹⁰⁰ (ε = 0 and a nearly constant row), is computed in double instead, so
/// every finite input gives the normalised row (a constant row with ε = 0 is 0/0, NaN, as in PyTorch).
/// </para>
/// Scratch: none. Spans: <c>input</c>, <c>residual</c> (or empty) and <c>output</c> are <c>[rows × width]</c>; output may
/// be input or residual itself (each element is read before it is written in every pass), else disjoint.
/// </summary>
internal static class NormKernels
{
    private const double TwoToMinus100 = 7.8886090522101181e-31;
    private const double TwoTo100 = 1.2676506002282294e30;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LayerNorm(ReadOnlySpan<float> input, ReadOnlySpan<float> residual, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
                                 Span<float> output, float epsilon)
    {
        if (Vector512.IsHardwareAccelerated) LayerNorm<Vector512<float>, Vector512Ops>(input, residual, gamma, beta, output, epsilon);
        else if (Vector256.IsHardwareAccelerated) LayerNorm<Vector256<float>, Vector256Ops>(input, residual, gamma, beta, output, epsilon);
        else if (Vector128.IsHardwareAccelerated) LayerNorm<Vector128<float>, Vector128Ops>(input, residual, gamma, beta, output, epsilon);
        else LayerNorm<float, ScalarOps>(input, residual, gamma, beta, output, epsilon);
    }

    /// <summary>
    /// Rows per work item of the parallel <see cref="LayerNorm(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, float, int)"/>:
    /// a row of 384 takes about 0.2 µs, so an item of 64 rows is work enough to be worth handing to a helper thread.
    /// </summary>
    private const int MinRowsPerItem = 64;

    /// <summary>
    /// <see cref="LayerNorm(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, float)"/>
    /// on up to <paramref name="degree"/> threads (0 or 1: the caller's; −1: one per processor), in chunks of whole
    /// rows. Each row is computed alone, so the output is the same bits for every degree. An encoder layer's two norms
    /// ran on one thread while the projections and the attention ran on all of them.
    /// </summary>
    public static unsafe void LayerNorm(ReadOnlySpan<float> input, ReadOnlySpan<float> residual, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
                                        Span<float> output, float epsilon, int degree)
    {
        int width = gamma.Length, rows = width == 0 ? 0 : input.Length / width;
        int threads = degree == -1 ? Environment.ProcessorCount : Math.Max(1, degree);
        int items = Math.Min(2 * threads, rows / MinRowsPerItem);
        if (threads == 1 || items < 2)
        {
            LayerNorm(input, residual, gamma, beta, output, epsilon);
            return;
        }

        fixed (float* x = input, r = residual, g = gamma, b = beta, o = output)
        {
            var job = new NormJob
            {
                Input = x, Residual = r, Gamma = g, Beta = b, Output = o, Width = width, Rows = rows,
                RowsPerItem = (rows + items - 1) / items, Epsilon = epsilon, HasResidual = !residual.IsEmpty, HasBeta = !beta.IsEmpty,
            };
            WorkerPool.RunJob(&job, (rows + job.RowsPerItem - 1) / job.RowsPerItem, threads, &LayerNormItem);
        }
    }

    private unsafe struct NormJob
    {
        public float* Input, Residual, Gamma, Beta, Output;
        public int Width, Rows, RowsPerItem;
        public float Epsilon;
        public bool HasResidual, HasBeta;
    }

    // One item: rows [item·RowsPerItem, …) of the job, by the serial form.
    private static unsafe void LayerNormItem(void* state, int item)
    {
        ref NormJob job = ref Unsafe.AsRef<NormJob>(state);
        int first = item * job.RowsPerItem, count = Math.Min(job.RowsPerItem, job.Rows - first);
        nint offset = (nint)first * job.Width, length = (nint)count * job.Width;
        LayerNorm(new ReadOnlySpan<float>(job.Input + offset, (int)length),
                  job.HasResidual ? new ReadOnlySpan<float>(job.Residual + offset, (int)length) : default,
                  new ReadOnlySpan<float>(job.Gamma, job.Width),
                  job.HasBeta ? new ReadOnlySpan<float>(job.Beta, job.Width) : default,
                  new Span<float>(job.Output + offset, (int)length), job.Epsilon);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RmsNorm(ReadOnlySpan<float> input, ReadOnlySpan<float> residual, ReadOnlySpan<float> gamma, Span<float> output, float epsilon)
    {
        if (Vector512.IsHardwareAccelerated) RmsNorm<Vector512<float>, Vector512Ops>(input, residual, gamma, output, epsilon);
        else if (Vector256.IsHardwareAccelerated) RmsNorm<Vector256<float>, Vector256Ops>(input, residual, gamma, output, epsilon);
        else if (Vector128.IsHardwareAccelerated) RmsNorm<Vector128<float>, Vector128Ops>(input, residual, gamma, output, epsilon);
        else RmsNorm<float, ScalarOps>(input, residual, gamma, output, epsilon);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LayerNorm<TV, TOps>(ReadOnlySpan<float> input, ReadOnlySpan<float> residual, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
                                            Span<float> output, float epsilon)
        where TV : struct
        where TOps : struct, IFloatVector<TV>
    {
        int width = gamma.Length, rows = width == 0 ? 0 : input.Length / width;
        Debug.Assert(rows * width == input.Length && output.Length == input.Length && (residual.IsEmpty || residual.Length == input.Length));
        Debug.Assert(beta.IsEmpty || beta.Length == width);
        bool hasResidual = !residual.IsEmpty, hasBeta = !beta.IsEmpty;
        ref float g = ref MemoryMarshal.GetReference(gamma);
        ref float b = ref MemoryMarshal.GetReference(beta);
        for (int row = 0; row < rows; row++)
        {
            ref float x = ref Unsafe.Add(ref MemoryMarshal.GetReference(input), row * width);
            ref float o = ref Unsafe.Add(ref MemoryMarshal.GetReference(output), row * width);

            // Pass 1: s = x (+ r), into the output when there is a residual; the provisional mean.
            ref float s = ref x;
            if (hasResidual)
            {
                ref float r = ref Unsafe.Add(ref MemoryMarshal.GetReference(residual), row * width);
                AddRows<TV, TOps>(ref x, ref r, ref o, width);
                s = ref o;
            }

            double provisional = Sum<TV, TOps>(ref s, width) / width;

            // Pass 2: Σd and Σd², d = s − m₀.
            (double sumD, double sumD2) = double.IsFinite(provisional) ? CenteredSums<TV, TOps>(ref s, (float)provisional, width) : (double.NaN, double.NaN);
            double mean = (float)provisional + sumD / width;
            double variance = Math.Max(0, (sumD2 - sumD * sumD / width) / width);
            double inverseStd = 1 / Math.Sqrt(variance + epsilon);
            if (!IsSafe(sumD2, width, inverseStd) && !HasNaN(provisional, sumD2, ref s, width))
            {
                // Squares that overflow or fall into float's subnormal range, or a scale past float's range: the
                // row in double (s itself is finite floats, so nothing overflows there).
                LayerNormRowInDouble(ref s, ref g, ref b, hasBeta, ref o, width, epsilon);
                continue;
            }

            // Pass 3: o = (s − mean)·(γ·invStd) + β.
            Normalize<TV, TOps>(ref s, (float)mean, (float)inverseStd, ref g, ref b, hasBeta, ref o, width);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RmsNorm<TV, TOps>(ReadOnlySpan<float> input, ReadOnlySpan<float> residual, ReadOnlySpan<float> gamma, Span<float> output, float epsilon)
        where TV : struct
        where TOps : struct, IFloatVector<TV>
    {
        int width = gamma.Length, rows = width == 0 ? 0 : input.Length / width;
        Debug.Assert(rows * width == input.Length && output.Length == input.Length && (residual.IsEmpty || residual.Length == input.Length));
        ref float g = ref MemoryMarshal.GetReference(gamma);
        float zero = 0;
        for (int row = 0; row < rows; row++)
        {
            ref float x = ref Unsafe.Add(ref MemoryMarshal.GetReference(input), row * width);
            ref float o = ref Unsafe.Add(ref MemoryMarshal.GetReference(output), row * width);
            ref float s = ref x;
            if (!residual.IsEmpty)
            {
                ref float r = ref Unsafe.Add(ref MemoryMarshal.GetReference(residual), row * width);
                AddRows<TV, TOps>(ref x, ref r, ref o, width);
                s = ref o;
            }

            (_, double sumSquares) = CenteredSums<TV, TOps>(ref s, 0f, width);
            double inverseRms = 1 / Math.Sqrt(sumSquares / width + epsilon);
            if (!IsSafe(sumSquares, width, inverseRms) && !HasNaN(0, sumSquares, ref s, width))
            {
                RmsNormRowInDouble(ref s, ref g, ref o, width, epsilon);
                continue;
            }

            Normalize<TV, TOps>(ref s, 0f, (float)inverseRms, ref g, ref zero, hasBeta: false, ref o, width);
        }
    }

    // Whether the float sums and the scale can be trusted: the squares neither overflowed nor (on average) reached
    // float's subnormal range (below 2⁻¹⁰⁰ the products d² may have, and lost digits), and the scale is a normal float.
    private static bool IsSafe(double sumSquares, int width, double inverse) =>
        double.IsFinite(sumSquares) && (sumSquares == 0 || sumSquares >= width * TwoToMinus100) && inverse <= TwoTo100;

    // A NaN in the row (the float sums are NaN) is not a range problem: the fast path carries it to the row's output.
    private static bool HasNaN(double provisional, double sumSquares, ref float s, int width)
    {
        if (!double.IsNaN(provisional) && !double.IsNaN(sumSquares))
        {
            return false;
        }

        for (int c = 0; c < width; c++)
        {
            if (float.IsNaN(Unsafe.Add(ref s, c)))
            {
                return true;
            }
        }

        return false;
    }

    private static void LayerNormRowInDouble(ref float s, ref float g, ref float b, bool hasBeta, ref float o, int width, float epsilon)
    {
        double mean = 0;
        for (int c = 0; c < width; c++)
        {
            mean += Unsafe.Add(ref s, c);
        }

        mean /= width;
        double variance = 0;
        for (int c = 0; c < width; c++)
        {
            double d = Unsafe.Add(ref s, c) - mean;
            variance += d * d;
        }

        double inverseStd = 1 / Math.Sqrt(variance / width + epsilon);
        for (int c = 0; c < width; c++)
        {
            Unsafe.Add(ref o, c) = (float)((Unsafe.Add(ref s, c) - mean) * inverseStd * Unsafe.Add(ref g, c) + (hasBeta ? Unsafe.Add(ref b, c) : 0));
        }
    }

    private static void RmsNormRowInDouble(ref float s, ref float g, ref float o, int width, float epsilon)
    {
        double sumSquares = 0;
        for (int c = 0; c < width; c++)
        {
            double v = Unsafe.Add(ref s, c);
            sumSquares += v * v;
        }

        double inverseRms = 1 / Math.Sqrt(sumSquares / width + epsilon);
        for (int c = 0; c < width; c++)
        {
            Unsafe.Add(ref o, c) = (float)(Unsafe.Add(ref s, c) * inverseRms * Unsafe.Add(ref g, c));
        }
    }

    // o[c] = x[c] + r[c].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRows<TV, TOps>(ref float x, ref float r, ref float o, int width)
        where TV : struct
        where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, c = 0;
        for (; c + w <= width; c += w)
        {
            TOps.Store(TOps.Add(TOps.Load(ref x, (nuint)c), TOps.Load(ref r, (nuint)c)), ref o, (nuint)c);
        }

        for (; c < width; c++)
        {
            Unsafe.Add(ref o, c) = Unsafe.Add(ref x, c) + Unsafe.Add(ref r, c);
        }
    }

    // Σ s[c], two vector accumulators, the remainder added in double.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Sum<TV, TOps>(ref float s, int width)
        where TV : struct
        where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, c = 0;
        TV a0 = TOps.Zero, a1 = TOps.Zero;
        for (; c + 2 * w <= width; c += 2 * w)
        {
            a0 = TOps.Add(a0, TOps.Load(ref s, (nuint)c));
            a1 = TOps.Add(a1, TOps.Load(ref s, (nuint)(c + w)));
        }

        double total = (double)TOps.Sum(a0) + TOps.Sum(a1);
        for (; c < width; c++)
        {
            total += Unsafe.Add(ref s, c);
        }

        return total;
    }

    // Σ d and Σ d² with d = s[c] − shift, two vector accumulators each, the remainder in double.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (double SumD, double SumD2) CenteredSums<TV, TOps>(ref float s, float shift, int width)
        where TV : struct
        where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, c = 0;
        TV shiftV = TOps.Create(shift);
        TV d0 = TOps.Zero, d1 = TOps.Zero, q0 = TOps.Zero, q1 = TOps.Zero;
        for (; c + 2 * w <= width; c += 2 * w)
        {
            TV e0 = TOps.Subtract(TOps.Load(ref s, (nuint)c), shiftV);
            TV e1 = TOps.Subtract(TOps.Load(ref s, (nuint)(c + w)), shiftV);
            d0 = TOps.Add(d0, e0);
            d1 = TOps.Add(d1, e1);
            q0 = TOps.MultiplyAdd(e0, e0, q0);
            q1 = TOps.MultiplyAdd(e1, e1, q1);
        }

        double sumD = (double)TOps.Sum(d0) + TOps.Sum(d1), sumD2 = (double)TOps.Sum(q0) + TOps.Sum(q1);
        for (; c < width; c++)
        {
            double e = Unsafe.Add(ref s, c) - shift;
            sumD += e;
            sumD2 += e * e;
        }

        return (sumD, sumD2);
    }

    // o[c] = (s[c] − mean)·(γ[c]·scale) + β[c].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Normalize<TV, TOps>(ref float s, float mean, float scale, ref float g, ref float b, bool hasBeta, ref float o, int width)
        where TV : struct
        where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, c = 0;
        TV meanV = TOps.Create(mean), scaleV = TOps.Create(scale);
        for (; c + w <= width; c += w)
        {
            TV centered = TOps.Subtract(TOps.Load(ref s, (nuint)c), meanV);
            TV factor = TOps.Multiply(TOps.Load(ref g, (nuint)c), scaleV);
            TV shift = hasBeta ? TOps.Load(ref b, (nuint)c) : TOps.Zero;
            TOps.Store(TOps.MultiplyAdd(centered, factor, shift), ref o, (nuint)c);
        }

        for (; c < width; c++)
        {
            float shift = hasBeta ? Unsafe.Add(ref b, c) : 0f;
            Unsafe.Add(ref o, c) = ScalarOps.MultiplyAdd(Unsafe.Add(ref s, c) - mean, Unsafe.Add(ref g, c) * scale, shift);
        }
    }
}
