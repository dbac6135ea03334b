using System.Runtime.CompilerServices;
using SelfAttention.Kernels;

namespace SelfAttention.Transformers.Kernels;

/// <summary>A function applied lane by lane at any width (the operator of <see cref="Elementwise.Apply{TOp}"/>).</summary>
internal interface IElementwiseOperator
{
    /// <summary>The function on every lane of <paramref name="x"/>.</summary>
    static abstract TV Invoke<TV, TOps>(TV x)
        where TV : struct
        where TOps : struct, IFloatVector<TV>;
}

/// <summary>
/// The activations. Each is written so that it never subtracts nearly equal numbers: GELU uses <c>erfc</c> directly on
/// the negative side (where <c>1 + erf</c> would cancel), the logistic functions use <c>e = exp(−|u|) ≤ 1</c> on both
/// sides. Every product with x uses <c>max(x, −float.MaxValue)</c>, so that the limit at −∞ is −0 rather than
/// <c>−∞ · 0 = NaN</c>; NaN in gives NaN out.
/// </summary>
internal static class ActivationOperators
{
    private const float InverseSqrt2 = 0.707106781186547524f;

    // √(2/π) and the cubic coefficient of the tanh form of GELU (Hendrycks and Gimpel, 2016).
    private const float SqrtTwoOverPi = 0.797884560802865356f;
    private const float TanhCubic = 0.044715f;

    // max(x, −float.MaxValue), the hardware maximum with the constant first so that a NaN x comes through (as Erf.Min).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV FiniteBelow<TV, TOps>(TV x)
        where TV : struct
        where TOps : struct, IFloatVector<TV> => TOps.MaxNative(TOps.Create(-float.MaxValue), x);

    /// <summary><c>erf x</c>: the series below <see cref="Erf.Split"/>, <c>sign(x)·(1 − erfc|x|)</c> above.</summary>
    internal readonly struct ErfOperator : IElementwiseOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Invoke<TV, TOps>(TV x)
            where TV : struct
            where TOps : struct, IFloatVector<TV>
        {
            // Past |x| = 10, erfc is far below float's smallest (e^(−100)); the clamp keeps Dekker's split finite.
            TV z = Erf.Min<TV, TOps>(Erf.Abs<TV, TOps>(x), 10f);
            var (hi, lo) = Erf.Square<TV, TOps>(z);
            TV large = TOps.Subtract(TOps.Create(1f), Erf.Complement<TV, TOps>(z, hi, lo));
            large = TOps.SelectWhereLess(x, TOps.Zero, TOps.Subtract(TOps.Zero, large), large);
            return TOps.SelectWhereLess(z, TOps.Create(Erf.Split), Erf.Small<TV, TOps>(x), large);
        }
    }

    /// <summary>GELU, erf form: <c>x·Φ(x) = ½·x·(1 + erf(x/√2))</c>, with <c>1 + erf(−z) = erfc z</c> on the negative side.</summary>
    internal readonly struct GeluOperator : IElementwiseOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Invoke<TV, TOps>(TV x)
            where TV : struct
            where TOps : struct, IFloatVector<TV>
        {
            // z = |x|/√2, and z² = x²/2 from the exact square of x (halving is exact), not from the rounded z. Past
            // |x| = 14, erfc(|x|/√2) is below float's smallest; the clamp keeps Dekker's split finite.
            TV scaled = TOps.Multiply(x, TOps.Create(InverseSqrt2));
            TV absX = Erf.Min<TV, TOps>(Erf.Abs<TV, TOps>(x), 14f);
            TV z = TOps.Multiply(absX, TOps.Create(InverseSqrt2));
            var (hi, lo) = Erf.Square<TV, TOps>(absX);
            TV complement = Erf.Complement<TV, TOps>(z, TOps.Multiply(hi, TOps.Create(0.5f)), TOps.Multiply(lo, TOps.Create(0.5f)));
            TV large = TOps.SelectWhereLess(x, TOps.Zero, complement, TOps.Subtract(TOps.Create(2f), complement));
            TV small = TOps.Add(TOps.Create(1f), Erf.Small<TV, TOps>(scaled));
            TV onePlusErf = TOps.SelectWhereLess(z, TOps.Create(Erf.Split), small, large);
            return TOps.Multiply(TOps.Multiply(FiniteBelow<TV, TOps>(x), TOps.Create(0.5f)), onePlusErf);
        }
    }

    /// <summary>
    /// GELU, tanh form: <c>½·x·(1 + tanh u)</c>, <c>u = √(2/π)·(x + 0.044715·x³)</c>, as <c>x·σ(2u)</c> with
    /// <c>e = exp(−2|u|)</c>: <c>x/(1 + e)</c> for u ≥ 0, <c>x·e/(1 + e)</c> below.
    /// </summary>
    internal readonly struct GeluTanhOperator : IElementwiseOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Invoke<TV, TOps>(TV x)
            where TV : struct
            where TOps : struct, IFloatVector<TV>
        {
            TV x2 = TOps.Multiply(x, x);
            TV u = TOps.Multiply(TOps.Multiply(x, TOps.Create(SqrtTwoOverPi)), TOps.MultiplyAdd(x2, TOps.Create(TanhCubic), TOps.Create(1f)));
            return Logistic<TV, TOps>(x, TOps.Add(u, u));
        }
    }

    /// <summary>SiLU (swish): <c>x·σ(x)</c>.</summary>
    internal readonly struct SiluOperator : IElementwiseOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Invoke<TV, TOps>(TV x)
            where TV : struct
            where TOps : struct, IFloatVector<TV> => Logistic<TV, TOps>(x, x);
    }

    /// <summary>ReLU: <c>max(x, 0)</c>, NaN kept (the vector max propagates it).</summary>
    internal readonly struct ReluOperator : IElementwiseOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Invoke<TV, TOps>(TV x)
            where TV : struct
            where TOps : struct, IFloatVector<TV> => TOps.Max(x, TOps.Zero);
    }

    // x·σ(v) from e = exp(−|v|) ≤ 1: x/(1 + e) for v ≥ 0, x·e/(1 + e) for v < 0.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Logistic<TV, TOps>(TV x, TV v)
        where TV : struct
        where TOps : struct, IFloatVector<TV>
    {
        TV e = FastExp.Exp<TV, TOps>(TOps.Subtract(TOps.Zero, Erf.Abs<TV, TOps>(v)));
        TV numerator = TOps.SelectWhereLess(v, TOps.Zero, e, TOps.Create(1f));
        return TOps.Divide(TOps.Multiply(FiniteBelow<TV, TOps>(x), numerator), TOps.Add(TOps.Create(1f), e));
    }
}
