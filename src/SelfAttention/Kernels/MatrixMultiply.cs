using System.Diagnostics;
using System.Runtime.Intrinsics;

namespace SelfAttention.Kernels;

/// <summary>
/// The span-level entry to <see cref="Gemm"/>: picks the vector width and the per-thread scratch. Internal: callers
/// (the layer, tests, benchmarks) have checked the sizes.
/// </summary>
internal static unsafe class MatrixMultiply
{
    /// <summary>
    /// <c>c = a·b + bias</c>: a <c>[m × k]</c> with row stride <paramref name="lda"/>, b <c>[k × n]</c> with row stride
    /// <paramref name="ldb"/>, c <c>[m × n]</c> with row stride <paramref name="ldc"/> (gaps never written), bias
    /// <c>[n]</c> or empty for none. c must not overlap the inputs.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, ReadOnlySpan<float> bias,
                                Span<float> c, int ldc, int m, int n, int k)
    {
        Debug.Assert(m >= 0 && n >= 0 && k >= 0 && lda >= k && ldb >= n && ldc >= n);
        Debug.Assert(m == 0 || a.Length >= (long)(m - 1) * lda + k);
        Debug.Assert(k == 0 || b.Length >= (long)(k - 1) * ldb + n);
        Debug.Assert(m == 0 || c.Length >= (long)(m - 1) * ldc + n);
        Debug.Assert(bias.IsEmpty || bias.Length >= n);
        if (m == 0 || n == 0)
        {
            return;
        }

        if (Vector512.IsHardwareAccelerated) Run<Vector512<float>, Vector512Ops>(a, lda, b, ldb, bias, c, ldc, m, n, k);
        else if (Vector256.IsHardwareAccelerated) Run<Vector256<float>, Vector256Ops>(a, lda, b, ldb, bias, c, ldc, m, n, k);
        else if (Vector128.IsHardwareAccelerated) Run<Vector128<float>, Vector128Ops>(a, lda, b, ldb, bias, c, ldc, m, n, k);
        else Run<float, ScalarOps>(a, lda, b, ldb, bias, c, ldc, m, n, k);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Run<TV, TOps>(ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, ReadOnlySpan<float> bias,
                                      Span<float> c, int ldc, int m, int n, int k)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        Span<float> scratch = ThreadScratch.Get(Gemm.ScratchLength<TV, TOps>(n));
        fixed (float* pa = a, pb = b, pbias = bias, pc = c, ps = scratch)
        {
            Gemm.Multiply<TV, TOps>(pa, lda, pb, ldb, bias.IsEmpty ? null : pbias, pc, ldc, m, n, k, ps);
        }
    }
}
