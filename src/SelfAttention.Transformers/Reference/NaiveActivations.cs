namespace SelfAttention.Transformers.Reference;

/// <summary>
/// The oracle for <see cref="Activations"/>: the textbook formulas in double precision, written for accuracy, not
/// speed, and independent of the float kernels (no shared code or coefficients).
/// <list type="bullet">
/// <item><see cref="Erf"/>: the Maclaurin series below |x| = 2, summed until a term no longer changes the sum; the
/// complement above, by Laplace's continued fraction <c>erfc z = e^(−z²)/√π · 1/(z + ½/(z + 1/(z + (3/2)/(z + …))))</c>
/// evaluated bottom-up from depth 200. Agrees with tabulated values to about 1e-15 (tests).</item>
/// <item>Each activation avoids cancellation as the fast path does (<c>erfc</c> on the negative side of GELU,
/// <c>e^(−|v|)</c> in the logistic), so the reference is accurate where the function is tiny.</item>
/// </list>
/// </summary>
public static class NaiveActivations
{
    private const double InverseSqrtPi = 0.56418958354775628695;
    private const double Sqrt2 = 1.41421356237309504880;

    /// <summary>The error function.</summary>
    /// <param name="x">The argument.</param>
    /// <returns><c>erf x</c>.</returns>
    public static double Erf(double x)
    {
        if (double.IsNaN(x))
        {
            return double.NaN;
        }

        double z = Math.Abs(x);
        if (z < 2)
        {
            // erf x = (2/√π)·Σ (−1)ⁿ x^(2n+1) / (n!·(2n+1)); the term's power and factorial are carried together.
            double power = x, sum = x;
            for (int n = 1; n < 200; n++)
            {
                power *= -x * x / n;
                double term = power / (2 * n + 1);
                double next = sum + term;
                if (next == sum)
                {
                    break;
                }

                sum = next;
            }

            return 2 * InverseSqrtPi * sum;
        }

        double complement = Erfc(z);
        return x < 0 ? complement - 1 : 1 - complement;
    }

    /// <summary>The complementary error function <c>1 − erf x</c>, accurate where it is tiny.</summary>
    /// <param name="x">The argument.</param>
    /// <returns><c>erfc x</c>.</returns>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x))
        {
            return double.NaN;
        }

        if (x < 2)
        {
            return 1 - Erf(x);
        }

        if (double.IsPositiveInfinity(x))
        {
            return 0;
        }

        double f = x;
        for (int k = 200; k >= 1; k--)
        {
            f = x + (k / 2.0) / f;
        }

        return Math.Exp(-x * x) * InverseSqrtPi / f;
    }

    /// <summary>GELU, erf form: <c>x·Φ(x) = ½·x·erfc(−x/√2)</c>.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>The activation.</returns>
    public static double Gelu(double x) => double.IsNegativeInfinity(x) ? -0.0 : 0.5 * x * Erfc(-x / Sqrt2);

    /// <summary>GELU, tanh form: <c>½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))</c>.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>The activation.</returns>
    public static double GeluTanh(double x)
    {
        double u = Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x);
        return Logistic(x, 2 * u);
    }

    /// <summary>SiLU: <c>x·σ(x)</c>.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>The activation.</returns>
    public static double Silu(double x) => Logistic(x, x);

    /// <summary>The activation a <see cref="Linear"/> fuses, in double (the references of the layer and the encoder share it).</summary>
    internal static double Apply(LinearActivation activation, double x) => activation switch
    {
        LinearActivation.Gelu => Gelu(x),
        LinearActivation.GeluTanh => GeluTanh(x),
        LinearActivation.Silu => Silu(x),
        LinearActivation.Relu => Math.Max(x, 0), // Math.Max keeps NaN
        _ => x,
    };

    // x·σ(v) = x·(1 + tanh(v/2))/2, written with e^(−|v|) so that neither side cancels.
    private static double Logistic(double x, double v)
    {
        if (double.IsNaN(x) || double.IsNaN(v))
        {
            return double.NaN;
        }

        if (double.IsNegativeInfinity(x))
        {
            return -0.0;
        }

        double e = Math.Exp(-Math.Abs(v));
        return v >= 0 ? x / (1 + e) : x * e / (1 + e);
    }
}
