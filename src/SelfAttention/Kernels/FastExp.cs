using System.Runtime.CompilerServices;

namespace SelfAttention.Kernels;

/// <summary>
/// A float exponential for softmax arguments (<c>x ≤ 0</c>), without widening to double.
/// <para>
/// Range reduction (Cody–Waite): <c>x = n·ln2 + r</c> with <c>n = round(x·log₂e)</c> and <c>|r| ≤ ln2/2</c>, where
/// <c>n·ln2</c> is subtracted in two parts (a short <see cref="Ln2Hi"/> whose product with n is exact, then
/// <see cref="Ln2Lo"/>). The rounding uses the "shifter" trick: adding <c>1.5·2²³ + 127</c> leaves
/// <c>n + 127</c> in the low mantissa bits, and shifting those bits left by 23 builds the float <c>2ⁿ</c> directly.
/// </para>
/// <para>
/// <c>e^r ≈ 1 + r + r²·P(r)</c> with the degree-5 minimax polynomial P of Cephes' <c>expf</c> (S. L. Moshier), accurate to
/// about one float ulp on the reduced range. P is evaluated in Estrin's order (three independent pairs, then two steps in
/// r²) rather than Horner's, and <c>2ⁿ·(1 + q)</c> as one fused <c>q·2ⁿ + 2ⁿ</c>: the same operation count with about
/// ten cycles less latency, which is what limits a softmax pass full of independent exps. Below <see cref="Underflow"/> (where <c>2ⁿ</c> would be subnormal) and at
/// −∞ the result is 0; NaN stays NaN. Arguments above about 88 are outside the domain (softmax never passes them).
/// </para>
/// One generic body serves every width through <see cref="IFloatVector{TV}"/>.
/// </summary>
internal static class FastExp
{
    public const float Log2E = 1.44269504088896341f;

    /// <summary><c>1.5·2²³ + 127</c>: rounds to an integer and pre-adds the exponent bias.</summary>
    public const float Shifter = 12582912f + 127f;

    public const float Ln2Hi = 0.693359375f;
    public const float Ln2Lo = -2.12194440e-4f;

    /// <summary>Below this, <c>e^x</c> is under the smallest normal float and is returned as 0.</summary>
    public const float Underflow = -87.33654f;

    public const float P0 = 1.9875691500e-4f;
    public const float P1 = 1.3981999507e-3f;
    public const float P2 = 8.3334519073e-3f;
    public const float P3 = 4.1665795894e-2f;
    public const float P4 = 1.6666665459e-1f;
    public const float P5 = 5.0000001201e-1f;

    /// <summary><c>e^x</c> for <c>x ≤ 0</c>: relative error about 1e-7 down to <see cref="Underflow"/>, then 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x) => Exp<float, ScalarOps>(x);

    /// <summary><c>e^x</c> lane by lane at any width; the steps are in the class remarks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Exp<TV, TOps>(TV x)
        where TV : struct
        where TOps : struct, IFloatVector<TV>
    {
        TV shifted = TOps.MultiplyAdd(x, TOps.Create(Log2E), TOps.Create(Shifter));
        TV powerOfTwo = TOps.ShiftIntoExponent(shifted);
        TV n = TOps.Subtract(shifted, TOps.Create(Shifter));
        TV r = TOps.MultiplyAdd(n, TOps.Create(-Ln2Hi), x);
        r = TOps.MultiplyAdd(n, TOps.Create(-Ln2Lo), r);
        TV r2 = TOps.Multiply(r, r);
        TV p01 = TOps.MultiplyAdd(TOps.Create(P0), r, TOps.Create(P1));
        TV p23 = TOps.MultiplyAdd(TOps.Create(P2), r, TOps.Create(P3));
        TV p45 = TOps.MultiplyAdd(TOps.Create(P4), r, TOps.Create(P5));
        TV p = TOps.MultiplyAdd(TOps.MultiplyAdd(p01, r2, p23), r2, p45);
        TV expR1 = TOps.MultiplyAdd(p, r2, r);
        return TOps.SelectWhereLess(x, TOps.Create(Underflow), TOps.Zero, TOps.MultiplyAdd(expR1, powerOfTwo, powerOfTwo));
    }
}
