using CommunityToolkit.HighPerformance;
using SelfAttention.Reference;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Hardening;

/// <summary>
/// The numeric range: for every finite input, every kernel agrees with the double-precision reference to float
/// rounding, and never returns NaN or ∞ where the exact answer is finite. The fast kernels compute in float and
/// recompute a row in double when a float intermediate leaves float's range (a score q·k or the tiled kernel's
/// pre-scaled q·scale overflowing, a value sum overflowing), so these inputs sit exactly at those edges.
/// <para>
/// Tolerance, derived: the reference weights are exact; the output of a row is a convex combination of its value rows,
/// so a float result carries a relative rounding of a few u = 2⁻²⁴ of max|v| from the sum, plus, where the row was
/// computed in float, the score rounding u·|score| turned into a weight error (see <see cref="AttentionTolerance"/>).
/// At these edges the scores are either all equal (uniform weights, no score error) or differ by far more than 88
/// (one-hot weights), where the score error cannot move a weight, so abs 1e-6·max|v| + rel 1e-5 holds with a wide margin
/// while a NaN, a zero row or a wrong one-hot pick fails by O(max|v|).
/// </para>
/// </summary>
public class NumericRangeTests
{
    public static TheoryData<AttentionKernel, int, int, bool> Shapes()
    {
        var data = new TheoryData<AttentionKernel, int, int, bool>();
        foreach (var kernel in TestInputs.Kernels)
        {
            // 1 and 3 rows (decode, tiny), 70 and 129 (tiled blocks and their tails); keys across a decode block.
            foreach (var (nq, nk) in new[] { (1, 65), (3, 3), (70, 17), (129, 130) })
            {
                data.Add(kernel, nq, nk, false);
                data.Add(kernel, nq, nk, true);
            }
        }

        return data;
    }

    /// <summary>q = k = 1e20: every score (4e40) overflows float. All scores are equal, so the weights are uniform.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void OverflowingEqualScores_GiveTheMeanOfTheValues(AttentionKernel kernel, int nq, int nk, bool causal)
    {
        const int d = 4;
        var q = Filled(nq * d, 1e20f);
        var k = Filled(nk * d, 1e20f);
        var v = TestInputs.Uniform(new Random(nq * 7 + nk), nk * 5, 3f);
        AssertMatchesReference(q, k, v, nq, nk, d, 5, new AttentionOptions { Kernel = kernel, IsCausal = causal, Scale = 1f },
                               $"{kernel} q=k=1e20 nq={nq} nk={nk} causal={causal}");
    }

    /// <summary>Scale 1e38 on ordinary scores: the scaled scores overflow; the softmax is the row's arg-max (ties split).</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void HugeScale_GivesTheArgMaxRow(AttentionKernel kernel, int nq, int nk, bool causal)
    {
        const int d = 8;
        var rng = new Random(nq * 31 + nk);
        var q = TestInputs.Uniform(rng, nq * d, 1f);
        var k = TestInputs.Uniform(rng, nk * d, 1f);
        var v = TestInputs.Uniform(rng, nk * 3, 2f);
        AssertMatchesReference(q, k, v, nq, nk, d, 3, new AttentionOptions { Kernel = kernel, IsCausal = causal, Scale = 1e38f },
                               $"{kernel} Scale=1e38 nq={nq} nk={nk} causal={causal}");
    }

    /// <summary>
    /// |q| = 3e38 with Scale 10: q·scale overflows (the tiled kernel pre-scales Q), while q·k with |k| ≤ 1e-30 does not:
    /// every kernel must give the reference's answer, so Auto's answer cannot depend on the number of rows.
    /// </summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void OverflowingScaledQuery_AgreesAcrossKernels(AttentionKernel kernel, int nq, int nk, bool causal)
    {
        const int d = 4;
        var rng = new Random(nq * 13 + nk);
        var q = TestInputs.Uniform(rng, nq * d, 1f);
        for (int index = 0; index < q.Length; index++)
        {
            q[index] = q[index] < 0 ? -3e38f : 3e38f;
        }

        var k = TestInputs.Uniform(rng, nk * d, 1e-38f);   // |q·k·scale| up to ~1, so the weights are not one-hot
        var v = TestInputs.Uniform(rng, nk * 6, 1f);
        AssertMatchesReference(q, k, v, nq, nk, d, 6, new AttentionOptions { Kernel = kernel, IsCausal = causal, Scale = 10f },
                               $"{kernel} |q|=3e38 Scale=10 nq={nq} nk={nk} causal={causal}");
    }

    /// <summary>
    /// Every score −1e39 after scaling (q·scale = +∞ times negative keys in the tiled kernel would make every score −∞
    /// and the row look empty): the exact answer is uniform weights, never zeros.
    /// </summary>
    [Theory]
    [MemberData(nameof(TestInputs.KernelData), MemberType = typeof(TestInputs))]
    public void AllScoresOverflowingNegative_AreNotAnEmptyRow(AttentionKernel kernel)
    {
        const int nq = 70, nk = 9, d = 2;
        var q = Filled(nq * d, 3e38f);
        var k = Filled(nk * d, -1f);
        var v = TestInputs.Uniform(new Random(5), nk * 4, 1f);
        AssertMatchesReference(q, k, v, nq, nk, d, 4, new AttentionOptions { Kernel = kernel, Scale = 10f }, $"{kernel} all scores -6e39");
    }

    /// <summary>Values at float's limit: the unnormalised value sum Σ p·v (p ≤ 1) overflows in float; the mean does not.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void ValuesAtTheFloatLimit_DoNotOverflowTheSum(AttentionKernel kernel, int nq, int nk, bool causal)
    {
        const int d = 4;
        var q = Filled(nq * d, 0.5f);
        var k = Filled(nk * d, 0.5f);
        var v = Filled(nk * 3, 3e38f);
        v[0] = -3e38f;
        AssertMatchesReference(q, k, v, nq, nk, d, 3, new AttentionOptions { Kernel = kernel, IsCausal = causal },
                               $"{kernel} v=±3e38 nq={nq} nk={nk} causal={causal}");
    }

    /// <summary>Sum normalisation in double: scores [3e38, 3e38] give [0.5, 0.5] and [1e-40, 0] gives [1, 0].</summary>
    [Theory]
    [MemberData(nameof(TestInputs.KernelData), MemberType = typeof(TestInputs))]
    public void SumNormalisation_AtTheEdgesOfFloat(AttentionKernel kernel)
    {
        var options = new AttentionOptions { Kernel = kernel, Normalization = AttentionNormalization.Sum, Scale = 1f };
        foreach (var (scores, expected) in new[] { (new[] { 3e38f, 3e38f }, new[] { 0.5f, 0.5f }), (new[] { 1e-40f, 0f }, new[] { 1f, 0f }) })
        {
            float[] q = [1f];
            float[] v = [2f, 6f];
            var output = new float[1, 1];
            var weights = new float[1, 2];
            Attention.Compute(new ReadOnlySpan2D<float>(q, 1, 1), new ReadOnlySpan2D<float>(scores, 2, 1), new ReadOnlySpan2D<float>(v, 2, 1),
                              output.AsSpan2D(), weights.AsSpan2D(), options);
            string context = $"{kernel} Sum over scores [{scores[0]:R}, {scores[1]:R}]";
            Assert.True(weights[0, 0] == expected[0] && weights[0, 1] == expected[1], $"{context}: weights [{weights[0, 0]:R}, {weights[0, 1]:R}].");
            float expectedOutput = expected[0] * 2f + expected[1] * 6f;
            Assert.True(output[0, 0] == expectedOutput, $"{context}: output {output[0, 0]:R}, expected {expectedOutput:R}.");

            var plain = new float[1, 1];
            Attention.Compute(new ReadOnlySpan2D<float>(q, 1, 1), new ReadOnlySpan2D<float>(scores, 2, 1), new ReadOnlySpan2D<float>(v, 2, 1), plain.AsSpan2D(), options);
            Assert.True(plain[0, 0] == expectedOutput, $"{context}, no weights: output {plain[0, 0]:R}, expected {expectedOutput:R}.");
        }
    }

    /// <summary>Random finite inputs spread over float's whole exponent range: never NaN, always the reference.</summary>
    [Theory]
    [MemberData(nameof(TestInputs.KernelData), MemberType = typeof(TestInputs))]
    public void WideExponentInputs_MatchTheReference(AttentionKernel kernel)
    {
        var rng = new Random(77);
        for (int trial = 0; trial < 6; trial++)
        {
            int nq = new[] { 1, 3, 70 }[trial % 3], nk = new[] { 5, 65 }[trial % 2], d = 4;
            float[] q = WideExponent(rng, nq * d), k = WideExponent(rng, nk * d), v = TestInputs.Uniform(rng, nk * 2, 1f);
            AssertMatchesReference(q, k, v, nq, nk, d, 2, new AttentionOptions { Kernel = kernel, IsCausal = trial % 2 == 1, Scale = 1f },
                                   $"{kernel} wide exponents, trial {trial}, nq={nq} nk={nk}");
        }
    }

    /// <summary>Magnitudes 10^±38 with random signs: scores from underflow to far past float's overflow.</summary>
    private static float[] WideExponent(Random rng, int count)
    {
        var values = new float[count];
        for (int index = 0; index < count; index++)
        {
            values[index] = (float)((rng.Next(2) == 0 ? -1 : 1) * Math.Pow(10, rng.NextDouble() * 76 - 38));
        }

        return values;
    }

    private static float[] Filled(int count, float value)
    {
        var values = new float[count];
        Array.Fill(values, value);
        return values;
    }

    /// <summary>Runs the kernel with and without weights and compares output (and weights) with the reference.</summary>
    private static void AssertMatchesReference(float[] q, float[] k, float[] v, int nq, int nk, int d, int dv, AttentionOptions options, string context)
    {
        var query = new ReadOnlySpan2D<float>(q, nq, d);
        var key = new ReadOnlySpan2D<float>(k, nk, d);
        var value = new ReadOnlySpan2D<float>(v, nk, dv);
        var expected = new float[nq, dv];
        var expectedWeights = new float[nq, nk];
        NaiveAttention.Compute(query, key, value, expected.AsSpan2D(), expectedWeights.AsSpan2D(), options);

        var output = new float[nq, dv];
        var withWeights = new float[nq, dv];
        var weights = new float[nq, nk];
        Attention.Compute(query, key, value, output.AsSpan2D(), options);
        Attention.Compute(query, key, value, withWeights.AsSpan2D(), weights.AsSpan2D(), options);

        // First-order rounding of float scores: a score error δ_j moves weight j by w_j·(δ_j − Σ_k w_k·δ_k), so with
        // |δ_j| ≤ 16·u·|s|_j, where |s|_j = scale·Σ_c |q_c·k_jc| (cancellation-proof), the output moves by at most
        // 32·u·max|v|·Σ_j w_j·(1 − w_j)·|s|_j. One-hot and uniform rows get no slack from it; rows in between do.
        double maxValue = v.Max(x => Math.Abs((double)x));
        double scale = options.Scale ?? 1 / Math.Sqrt(d);
        for (int i = 0; i < nq; i++)
        {
            var absScore = new double[nk];
            double spread = 0, mean = 0;
            for (int j = 0; j < nk; j++)
            {
                for (int c = 0; c < d; c++)
                {
                    absScore[j] += Math.Abs((double)q[i * d + c] * k[j * d + c]) * scale;
                }

                double w = expectedWeights[i, j];
                spread += w * (1 - w) * absScore[j];
                mean += w * absScore[j];
            }

            double outputTolerance(double reference) => 1e-6 * maxValue + 1e-5 * Math.Abs(reference) + 32 * Tolerance.FloatRoundoff * maxValue * spread;
            foreach (var (actual, name) in new[] { (output, "output"), (withWeights, "output with weights") })
            {
                for (int c = 0; c < dv; c++)
                {
                    double reference = expected[i, c], got = actual[i, c];
                    Assert.True(double.IsFinite(reference), $"{context}: the reference itself is not finite at [{i}, {c}] ({reference}).");
                    Assert.True(Math.Abs(got - reference) <= outputTolerance(reference),
                        $"{context}: {name}[{i}, {c}] = {got:R}, reference {reference:R}, tolerance {outputTolerance(reference):G3}.");
                }
            }

            for (int j = 0; j < nk; j++)
            {
                double w = expectedWeights[i, j];
                double tolerance = 1e-6 + 16 * Tolerance.FloatRoundoff * w * ((1 - w) * absScore[j] + (mean - w * absScore[j]));
                Assert.True(Math.Abs(weights[i, j] - w) <= tolerance,
                    $"{context}: weights[{i}, {j}] = {weights[i, j]:R}, reference {w:R}, tolerance {tolerance:G3}.");
            }
        }
    }
}
