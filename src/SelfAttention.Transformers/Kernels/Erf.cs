using System.Runtime.CompilerServices;
using SelfAttention.Kernels;

namespace SelfAttention.Transformers.Kernels;

/// <summary>
/// The Gauss error function in float at any vector width (.NET has no <c>erf</c>), in two pieces that the
/// activations combine so that neither loses digits to cancellation:
/// <list type="bullet">
/// <item><see cref="Small"/>, <c>|x| &lt; 0.5</c>: the Maclaurin series <c>erf x = (2/√π)·x·Σ (−x²)ⁿ / (n!·(2n+1))</c>
/// through n = 6 (the first term left out is below 1e-9 of the sum at 0.5), in Horner's order in x².</item>
/// <item><see cref="Complement"/>, <c>z ≥ 0.5</c>: <c>erfc z = t·exp(−z² + P(t))</c> with <c>t = 1/(1 + z/2)</c> and the
/// degree-9 polynomial P of the Chebyshev fit in Numerical Recipes (2nd ed., §6.2, <c>erfcc</c>), whose fractional error
/// is below 1.2e-7 for every z ≥ 0. The exponent is at most about −0.5 there, so the core library's fast exp (valid for
/// arguments ≤ 0) serves; past z ≈ 9.3 it underflows to 0, as erfc does in float.</item>
/// </list>
/// Measured against the double-precision reference (tests/SelfAttention.Tests/Transformers): see <see cref="Activations.Erf(float)"/>.
/// </summary>
internal static class Erf
{
    /// <summary>Where the series hands over to the complement.</summary>
    public const float Split = 0.5f;

    // 2/√π and the series' coefficients 1/(n!·(2n+1)) with alternating signs, n = 1 … 6.
    private const float TwoOverSqrtPi = 1.12837916709551257f;
    private const float S1 = -1f / 3f;
    private const float S2 = 1f / 10f;
    private const float S3 = -1f / 42f;
    private const float S4 = 1f / 216f;
    private const float S5 = -1f / 1320f;
    private const float S6 = 1f / 9360f;

    // Numerical Recipes' erfcc coefficients, constant term first.
    private const float C0 = -1.26551223f;
    private const float C1 = 1.00002368f;
    private const float C2 = 0.37409196f;
    private const float C3 = 0.09678418f;
    private const float C4 = -0.18628806f;
    private const float C5 = 0.27886807f;
    private const float C6 = -1.13520398f;
    private const float C7 = 1.48851587f;
    private const float C8 = -0.82215223f;
    private const float C9 = 0.17087277f;

    /// <summary><c>erf x</c> by the series, for <c>|x| &lt; <see cref="Split"/></c> (inaccurate beyond).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Small<TV, TOps>(TV x)
        where TV : struct
        where TOps : struct, IFloatVector<TV>
    {
        TV x2 = TOps.Multiply(x, x);
        TV p = TOps.MultiplyAdd(TOps.Create(S6), x2, TOps.Create(S5));
        p = TOps.MultiplyAdd(p, x2, TOps.Create(S4));
        p = TOps.MultiplyAdd(p, x2, TOps.Create(S3));
        p = TOps.MultiplyAdd(p, x2, TOps.Create(S2));
        p = TOps.MultiplyAdd(p, x2, TOps.Create(S1));
        p = TOps.MultiplyAdd(p, x2, TOps.Create(1f));
        return TOps.Multiply(TOps.Multiply(x, TOps.Create(TwoOverSqrtPi)), p);
    }

    /// <summary>
    /// <c>erfc z</c> for <c>z ≥ 0</c> (accurate to its fractional error everywhere there; used from <see cref="Split"/>),
    /// given <c>z² = squareHi + squareLo</c> exactly (<see cref="Square"/>). The exponent <c>−z² + P(t)</c> is large (−50 at
    /// z = 7) and e^v turns an absolute error in v into the same relative error, so it is not rounded to one float:
    /// <c>s = P − squareHi</c> is rounded, its rounding error recovered exactly (Knuth's TwoSum), and that and
    /// <c>−squareLo</c> are applied as <c>e^s·(1 + δ)</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Complement<TV, TOps>(TV z, TV squareHi, TV squareLo)
        where TV : struct
        where TOps : struct, IFloatVector<TV>
    {
        TV t = TOps.Divide(TOps.Create(1f), TOps.MultiplyAdd(z, TOps.Create(0.5f), TOps.Create(1f)));
        TV p = TOps.MultiplyAdd(TOps.Create(C9), t, TOps.Create(C8));
        p = TOps.MultiplyAdd(p, t, TOps.Create(C7));
        p = TOps.MultiplyAdd(p, t, TOps.Create(C6));
        p = TOps.MultiplyAdd(p, t, TOps.Create(C5));
        p = TOps.MultiplyAdd(p, t, TOps.Create(C4));
        p = TOps.MultiplyAdd(p, t, TOps.Create(C3));
        p = TOps.MultiplyAdd(p, t, TOps.Create(C2));
        p = TOps.MultiplyAdd(p, t, TOps.Create(C1));
        p = TOps.MultiplyAdd(p, t, TOps.Create(C0));

        // TwoSum: s + error = p + (−squareHi) exactly.
        TV minusHi = TOps.Subtract(TOps.Zero, squareHi);
        TV s = TOps.Add(p, minusHi);
        TV pPart = TOps.Subtract(s, minusHi);
        TV hiPart = TOps.Subtract(s, pPart);
        TV error = TOps.Add(TOps.Subtract(p, pPart), TOps.Subtract(minusHi, hiPart));
        TV delta = TOps.Subtract(error, squareLo);
        TV exp = FastExp.Exp<TV, TOps>(s);
        return TOps.Multiply(t, TOps.MultiplyAdd(exp, delta, exp));
    }

    /// <summary>
    /// <c>x² = hi + lo</c> exactly: with a fused multiply-add (where <see cref="IFloatVector{TV}.MultiplyAdd"/> is one),
    /// <c>lo = fma(x, x, −hi)</c>, the exact rounding error of the product; without one, Dekker's product (Veltkamp's
    /// split into 12-bit halves), eight operations more. Both are exact, so both give the same bits. For <c>|x| ≤ 2⁶⁰</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (TV Hi, TV Lo) Square<TV, TOps>(TV x)
        where TV : struct
        where TOps : struct, IFloatVector<TV>
    {
        if (System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported)
        {
            TV product = TOps.Multiply(x, x);
            return (product, TOps.MultiplyAdd(x, x, TOps.Subtract(TOps.Zero, product)));
        }

        TV c = TOps.Multiply(x, TOps.Create(4097f));
        TV high = TOps.Subtract(c, TOps.Subtract(c, x));
        TV low = TOps.Subtract(x, high);
        TV hi = TOps.Multiply(x, x);
        TV lo = TOps.Add(TOps.Add(TOps.Subtract(TOps.Multiply(high, high), hi), TOps.Multiply(TOps.Multiply(high, low), TOps.Create(2f))), TOps.Multiply(low, low));
        return (hi, lo);
    }

    /// <summary>
    /// <c>min(x, limit)</c> that keeps NaN: the hardware minimum with the constant first, which passes a NaN x through
    /// (x64 returns the second operand, Arm and the scalar form the NaN). One instruction where the IEEE
    /// <see cref="IFloatVector{TV}.Max"/> takes three on x64; the same results, NaN included.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Min<TV, TOps>(TV x, float limit)
        where TV : struct
        where TOps : struct, IFloatVector<TV> => TOps.MinNative(TOps.Create(limit), x);

    /// <summary>
    /// <c>|x|</c> as the hardware maximum of <c>x</c> and <c>−x</c>: NaN stays NaN (x64 returns the second operand, −NaN,
    /// Arm and the scalar form the NaN), ±0 may come out as −0, which no caller tells from +0 (they compare it and square it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Abs<TV, TOps>(TV x)
        where TV : struct
        where TOps : struct, IFloatVector<TV> => TOps.MaxNative(x, TOps.Subtract(TOps.Zero, x));
}
