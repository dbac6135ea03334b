using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using SelfAttention.Kernels;

namespace SelfAttention.Transformers.Kernels;

/// <summary>
/// <c>y[i] = op(x[i])</c> at the widest accelerated width. Whole vectors first; a length that is not a multiple of the
/// width ends with one more vector over the last <c>Count</c> elements, computed from the input as it was before the
/// loop (loaded first), so it is correct in place too; lengths below one vector run the scalar operator.
/// x and y are the same length and either the same memory or disjoint (the public entry points check).
/// </summary>
internal static class Elementwise
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply<TOp>(ReadOnlySpan<float> x, Span<float> y)
        where TOp : struct, IElementwiseOperator
    {
        Debug.Assert(x.Length == y.Length);
        if (Vector512.IsHardwareAccelerated) Run<TOp, Vector512<float>, Vector512Ops>(x, y);
        else if (Vector256.IsHardwareAccelerated) Run<TOp, Vector256<float>, Vector256Ops>(x, y);
        else if (Vector128.IsHardwareAccelerated) Run<TOp, Vector128<float>, Vector128Ops>(x, y);
        else Run<TOp, float, ScalarOps>(x, y);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TOp, TV, TOps>(ReadOnlySpan<float> x, Span<float> y)
        where TOp : struct, IElementwiseOperator
        where TV : struct
        where TOps : struct, IFloatVector<TV>
    {
        int n = x.Length, w = TOps.Count;
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float destination = ref MemoryMarshal.GetReference(y);
        if (n < w)
        {
            for (int i = 0; i < n; i++)
            {
                Unsafe.Add(ref destination, i) = TOp.Invoke<float, ScalarOps>(Unsafe.Add(ref source, i));
            }

            return;
        }

        TV last = TOps.Load(ref source, (nuint)(n - w));
        int whole = n - (n % w);
        for (int i = 0; i < whole; i += w)
        {
            TOps.Store(TOp.Invoke<TV, TOps>(TOps.Load(ref source, (nuint)i)), ref destination, (nuint)i);
        }

        if (whole != n)
        {
            TOps.Store(TOp.Invoke<TV, TOps>(last), ref destination, (nuint)(n - w));
        }
    }
}
