using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using SelfAttention.Internal;
using SelfAttention.Kernels;

namespace SelfAttention;

/// <summary>
/// The row-level steps of attention as public, allocation-free building blocks over flat spans: a stable softmax, the
/// plain sum normalisation, a dot product and the weighted sum of value rows. They run the same SIMD kernels as
/// <see cref="Attention"/>, at the widest vector width the CPU accelerates.
/// </summary>
public static unsafe class AttentionPrimitives
{
    /// <summary>
    /// Stable softmax: <c>destination[j] = e^(source[j] − max) / Σ_k e^(source[k] − max)</c>. The maximum is subtracted
    /// first, so [1000, 1000] gives [0.5, 0.5]; −∞ entries get weight 0, and a row of only −∞ becomes zeros. NaN gives NaN.
    /// </summary>
    /// <param name="source">The scores.</param>
    /// <param name="destination">Receives the weights; the same length as <paramref name="source"/>. It may be the very same span (in place) but must not overlap it otherwise.</param>
    /// <exception cref="ArgumentException">The lengths differ, or the spans overlap without being the same.</exception>
    public static void Softmax(ReadOnlySpan<float> source, Span<float> destination)
    {
        ValidateElementwise(source, destination);
        ref float s = ref MemoryMarshal.GetReference(source);
        ref float d = ref MemoryMarshal.GetReference(destination);
        if (Vector512.IsHardwareAccelerated) RowKernels.Softmax<Vector512<float>, Vector512Ops>(ref s, ref d, source.Length);
        else if (Vector256.IsHardwareAccelerated) RowKernels.Softmax<Vector256<float>, Vector256Ops>(ref s, ref d, source.Length);
        else if (Vector128.IsHardwareAccelerated) RowKernels.Softmax<Vector128<float>, Vector128Ops>(ref s, ref d, source.Length);
        else RowKernels.Softmax<float, ScalarOps>(ref s, ref d, source.Length);
    }

    /// <summary>
    /// The plain "divide by the sum" normalisation: <c>destination[j] = source[j] / Σ_k source[k]</c>; a zero sum gives zeros.
    /// </summary>
    /// <param name="source">The scores.</param>
    /// <param name="destination">Receives the weights; the same length as <paramref name="source"/>. It may be the very same span but must not overlap it otherwise.</param>
    /// <exception cref="ArgumentException">The lengths differ, or the spans overlap without being the same.</exception>
    public static void SumNormalize(ReadOnlySpan<float> source, Span<float> destination)
    {
        ValidateElementwise(source, destination);
        ref float s = ref MemoryMarshal.GetReference(source);
        ref float d = ref MemoryMarshal.GetReference(destination);
        if (Vector512.IsHardwareAccelerated) RowKernels.SumNormalize<Vector512<float>, Vector512Ops>(ref s, ref d, source.Length);
        else if (Vector256.IsHardwareAccelerated) RowKernels.SumNormalize<Vector256<float>, Vector256Ops>(ref s, ref d, source.Length);
        else if (Vector128.IsHardwareAccelerated) RowKernels.SumNormalize<Vector128<float>, Vector128Ops>(ref s, ref d, source.Length);
        else RowKernels.SumNormalize<float, ScalarOps>(ref s, ref d, source.Length);
    }

    /// <summary>The dot product <c>Σ_c x[c]·y[c]</c>, accumulated in float with fused multiply-adds.</summary>
    /// <param name="x">The first vector.</param>
    /// <param name="y">The second vector; the same length as <paramref name="x"/>.</param>
    /// <returns>The dot product; 0 for empty spans.</returns>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        if (y.Length != x.Length)
        {
            ThrowHelper.ThrowSizeMismatch(nameof(y), "y length must equal x length", x.Length, y.Length);
        }

        ref float a = ref MemoryMarshal.GetReference(x);
        ref float b = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated) return RowKernels.Dot<Vector512<float>, Vector512Ops>(ref a, ref b, x.Length);
        if (Vector256.IsHardwareAccelerated) return RowKernels.Dot<Vector256<float>, Vector256Ops>(ref a, ref b, x.Length);
        if (Vector128.IsHardwareAccelerated) return RowKernels.Dot<Vector128<float>, Vector128Ops>(ref a, ref b, x.Length);
        return RowKernels.Dot<float, ScalarOps>(ref a, ref b, x.Length);
    }

    /// <summary>
    /// The weighted sum of value rows, <c>destination[c] = Σ_j weights[j] · values[j·valueDim + c]</c> with
    /// <c>valueDim = destination.Length</c>: one output row of attention.
    /// </summary>
    /// <param name="weights">One weight per value row, <c>[count]</c>.</param>
    /// <param name="values">The value rows, row-major <c>[count, valueDim]</c>.</param>
    /// <param name="destination">Receives the sum, <c>[valueDim]</c>; must not overlap the inputs.</param>
    /// <exception cref="ArgumentException"><paramref name="values"/> is not <c>weights.Length · destination.Length</c> long, or the destination overlaps an input.</exception>
    public static void WeightedSum(ReadOnlySpan<float> weights, ReadOnlySpan<float> values, Span<float> destination)
    {
        long expected = (long)weights.Length * destination.Length;
        if (values.Length != expected)
        {
            ThrowHelper.ThrowSizeMismatch(nameof(values), "values length must equal weights.Length · destination.Length", expected, values.Length);
        }

        AttentionValidation.CheckNoOverlap(destination, weights, nameof(destination), nameof(weights));
        AttentionValidation.CheckNoOverlap(destination, values, nameof(destination), nameof(values));

        // Pinned, as Attention pins its buffers: the row kernel walks a managed reference from value row to value row,
        // and the caller's spans may be unpinned array memory that the GC could otherwise move under it.
        int count = weights.Length, valueDim = destination.Length;
        fixed (float* pw = weights, pv = values, po = destination)
        {
            ref float w = ref Unsafe.AsRef<float>(pw);
            ref float v = ref Unsafe.AsRef<float>(pv);
            ref float o = ref Unsafe.AsRef<float>(po);
            if (Vector512.IsHardwareAccelerated) RowKernels.WeightedSum<Vector512<float>, Vector512Ops>(ref w, count, ref v, valueDim, valueDim, ref o);
            else if (Vector256.IsHardwareAccelerated) RowKernels.WeightedSum<Vector256<float>, Vector256Ops>(ref w, count, ref v, valueDim, valueDim, ref o);
            else if (Vector128.IsHardwareAccelerated) RowKernels.WeightedSum<Vector128<float>, Vector128Ops>(ref w, count, ref v, valueDim, valueDim, ref o);
            else RowKernels.WeightedSum<float, ScalarOps>(ref w, count, ref v, valueDim, valueDim, ref o);
        }
    }

    private static void ValidateElementwise(ReadOnlySpan<float> source, Span<float> destination, [CallerArgumentExpression(nameof(destination))] string destinationName = "destination")
    {
        if (destination.Length != source.Length)
        {
            ThrowHelper.ThrowSizeMismatch(destinationName, "destination length must equal source length", source.Length, destination.Length);
        }

        if (source.Overlaps(destination, out int offset) && offset != 0)
        {
            ThrowHelper.ThrowOverlap(destinationName, nameof(source));
        }
    }
}
