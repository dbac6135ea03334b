namespace SelfAttention.Tests.Helpers;

/// <summary>
/// An oracle tolerance: element <c>(i, c)</c> passes when <c>|actual − expected| ≤ Absolute + Relative·|expected| + slack[i]</c>
/// (slack is an optional per-row term, e.g. from the size of the row's scores), and the tensor passes when
/// <c>‖actual − expected‖₂ ≤ Norm·‖expected‖₂</c> (with <c>‖expected‖₂</c> floored at <c>Absolute·√count</c>).
/// </summary>
public readonly record struct Tolerance(double Absolute, double Relative, double Norm)
{
    /// <summary>Unit roundoff of float, 2⁻²⁴.</summary>
    public const double FloatRoundoff = 1.0 / (1 << 24);

    /// <summary>
    /// Outputs of inputs of magnitude 1: float scores, a polynomial exp with an error of a few ulps and float sums over
    /// up to 1000 keys stay well inside 2e-5 absolute + 2e-4 relative; across the tensor the error is ~1e-6 of its norm.
    /// </summary>
    public static Tolerance Magnitude1 => new(2e-5, 2e-4, 2e-5);

    /// <summary>Weights of inputs of magnitude 1 (each in [0, 1]).</summary>
    public static Tolerance Weights => new(2e-6, 2e-4, 2e-5);

    public override string ToString() => $"abs {Absolute:G3} + rel {Relative:G3}·|ref|, norm {Norm:G3}";
}
