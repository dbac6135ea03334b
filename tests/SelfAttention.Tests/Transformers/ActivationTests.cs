using SelfAttention.Tests.Helpers;
using SelfAttention.Transformers;
using SelfAttention.Transformers.Reference;
using Xunit;

namespace SelfAttention.Tests.Transformers;

/// <summary>
/// <see cref="Activations"/> against <see cref="NaiveActivations"/> (double) at whatever width this process runs
/// (CI runs the suite at 512, 256, 128 bits and scalar).
/// <para>
/// Tolerances, derived, then checked against what was measured on 82,000 points (in brackets):
/// <list type="bullet">
/// <item>Erf and SiLU, 4e-7 relative (3.5 float ulps): the erfc fit's fractional error is below 1.2e-7 and the fast
/// exp's about 1e-7, and a dozen float operations round to half an ulp (6e-8) each, mostly in independent directions
/// [erf 3.7e-7, SiLU 2.2e-7].</item>
/// <item>GELU (erf form), 5e-7: the same, plus the rounding of t = 1/(1 + z/2) fed through the degree-9 fit, whose
/// slope reaches 3 [4.4e-7 at x = −1.23].</item>
/// <item>GELU (tanh form), 4e-7 + 2e-7·|2u| with u = √(2/π)·(x + 0.044715x³): the exponent 2u is rounded to a float
/// (a relative error of about 3 half-ulps), and e^(−|2u|) turns that into the same absolute error times |2u|, which
/// reaches 70 at x = −9 [1.1e-5 there, where the result is −8e-34].</item>
/// </list>
/// Results below 2⁻¹⁰⁰ in magnitude (the far left of GELU and SiLU, where the fast exp flushes its subnormal range to 0)
/// are held to an absolute error of 2⁻¹⁰⁰ instead. A wrong coefficient or a cancelled subtraction costs 1e-5 or more
/// where the function is of order 1, so these bounds catch it.
/// </para>
/// </summary>
public class ActivationTests
{
    private const double SqrtTwoOverPi = 0.79788456080286536;
    private static readonly double s_tiny = Math.ScaleB(1.0, -100);

    public delegate void SpanActivation(ReadOnlySpan<float> x, Span<float> destination);

    private static readonly Dictionary<string, (SpanActivation Fast, Func<double, double> Reference, Func<double, double> Bound)> s_activations = new()
    {
        ["Erf"] = (Activations.Erf, NaiveActivations.Erf, _ => 4e-7),
        ["Gelu"] = (Activations.Gelu, NaiveActivations.Gelu, _ => 5e-7),
        ["GeluTanh"] = (Activations.GeluTanh, NaiveActivations.GeluTanh, x => 4e-7 + 2e-7 * Math.Abs(2 * SqrtTwoOverPi * (x + 0.044715 * x * x * x))),
        ["Silu"] = (Activations.Silu, NaiveActivations.Silu, _ => 4e-7),
    };

    public static TheoryData<string> Names => new(s_activations.Keys);

    /// <summary>
    /// Every multiple of 2⁻¹² in [−10, 10] (81,921 values: both sides of the series/complement split at |x| = 0.5 and
    /// of GELU's at 0.5·√2, the transition region of every function), then ±2ᵏ·(1, 1.3, 1.7) for every normal binade,
    /// and ±float.MaxValue.
    /// </summary>
    private static float[] Grid()
    {
        var values = new List<float>();
        for (int i = -40960; i <= 40960; i++)
        {
            values.Add(i / 4096f);
        }

        for (int k = -126; k <= 127; k++)
        {
            foreach (float m in new[] { 1f, 1.3f, 1.7f })
            {
                float v = MathF.ScaleB(m, k);
                if (float.IsFinite(v))
                {
                    values.Add(v);
                    values.Add(-v);
                }
            }
        }

        values.Add(float.MaxValue);
        values.Add(-float.MaxValue);
        return values.ToArray();
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void MatchesTheReferenceOnADenseGridAndEveryBinade(string name)
    {
        var (fast, reference, bound) = s_activations[name];
        float[] x = Grid();
        var y = new float[x.Length];
        fast(x, y);
        double worst = 0;
        float worstAt = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double expected = reference(x[i]);
            double error = Math.Abs(y[i] - expected);
            if (Math.Abs(expected) < s_tiny)
            {
                Assert.True(error <= s_tiny, $"{name}({x[i]:R}) = {y[i]:R}, reference {expected:R}: absolute error {error:G3} above 2^-100 ({SimdWidth.Name}).");
                continue;
            }

            // The worst error as a share of its bound, so one figure ranks every point.
            double share = error / Math.Abs(expected) / bound(x[i]);
            if (share > worst)
            {
                (worst, worstAt) = (share, x[i]);
            }
        }

        Assert.True(worst <= 1, $"{name}: the worst point, x = {worstAt:R}, has {worst:F2} of its bound {bound(worstAt):G3} ({SimdWidth.Name}).");
    }

    /// <summary>
    /// ±0, ±∞ and NaN, alone (five elements: the scalar path at 512 and 256 bits) and repeated through 80 elements, so
    /// that every width's whole vectors and its overlapping last vector see each of them in every lane position.
    /// </summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void SpecialValues(string name)
    {
        var (fast, _, _) = s_activations[name];
        float[] special = [0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN];
        foreach (int length in new[] { special.Length, 80 })
        {
            var x = new float[length];
            for (int i = 0; i < length; i++)
            {
                x[i] = special[i % special.Length];
            }

            var y = new float[length];
            fast(x, y);
            for (int i = 0; i < length; i++)
            {
                string at = $"{name}, element {i} of {length} ({SimdWidth.Name})";
                switch (i % special.Length)
                {
                    case 0:
                        Assert.True(y[i] == 0f, $"{at}: f(0) = {y[i]:R}.");
                        break;
                    case 1:
                        Assert.True(y[i] == 0f, $"{at}: f(−0) = {y[i]:R}.");
                        break;
                    case 2:
                        Assert.True(y[i] == (name == "Erf" ? 1f : float.PositiveInfinity), $"{at}: f(∞) = {y[i]:R}.");
                        break;
                    case 3:
                        if (name == "Erf")
                        {
                            Assert.True(y[i] == -1f, $"{at}: erf(−∞) = {y[i]:R}.");
                        }
                        else
                        {
                            Assert.True(y[i] == 0 && float.IsNegative(y[i]), $"{at}: f(−∞) = {y[i]:R}, expected −0.");
                        }

                        break;
                    default:
                        Assert.True(float.IsNaN(y[i]), $"{at}: f(NaN) = {y[i]:R}.");
                        break;
                }
            }
        }
    }

    /// <summary>
    /// Every length from 0 to 257 and 1000, so each width's whole vectors, its overlapping last vector and the scalar
    /// path for short spans all run: each element equals the same element computed alone (a one-element span takes
    /// the scalar path), bit for bit, and in place equals out of place, with sentinels past the end untouched.
    /// </summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void EveryLength_AgreesWithTheScalarPathInPlaceAndOut(string name)
    {
        var (fast, _, _) = s_activations[name];
        var rng = new Random(name.Length);
        foreach (int n in Enumerable.Range(0, 258).Append(1000))
        {
            float[] x = TestInputs.Uniform(rng, n, 6f);
            var y = new float[n + 3];
            y.AsSpan(n).Fill(123f);
            fast(x, y.AsSpan(0, n));
            Assert.All(y[n..], v => Assert.Equal(123f, v));
            var one = new float[1];
            for (int i = 0; i < n; i++)
            {
                fast(x.AsSpan(i, 1), one);
                Assert.True(BitConverter.SingleToInt32Bits(one[0]) == BitConverter.SingleToInt32Bits(y[i]),
                    $"{name}, length {n}, element {i}: span {y[i]:R}, alone {one[0]:R} ({SimdWidth.Name}).");
            }

            float[] inPlace = (float[])x.Clone();
            fast(inPlace, inPlace);
            Assert.Equal(y[..n], inPlace);
        }
    }

    [Fact]
    public void ScalarErfEqualsTheSpanVersion()
    {
        float[] x = Grid();
        var y = new float[x.Length];
        Activations.Erf(x, y);
        for (int i = 0; i < x.Length; i += 7)
        {
            Assert.Equal(y[i], Activations.Erf(x[i]));
        }
    }
}
