using Xunit;

namespace SelfAttention.Tests.RedTeam;

/// <summary>
/// Attacks on README "Numeric range: every finite input": extreme magnitudes, scales at both ends of float, huge
/// values, partial overflow, long rows and odd head dims, against every kernel, entry point and degree, with the
/// rigorous tolerance of <see cref="RedOracle"/>.
/// </summary>
public class RedNumericTests
{
    private static float[] Fill(int n, Func<int, float> f)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = f(i);
        }

        return x;
    }

    private static float Signed(Random rng, double magnitude) =>
        (float)((rng.Next(2) == 0 ? -1 : 1) * magnitude * (0.5 + 0.5 * rng.NextDouble()));

    /// <summary>
    /// Fuzz, well-conditioned: q ~ 10^a, k ~ 10^b, scale 10^c with a + b + c ≈ 0 so that the exact scores are moderate,
    /// while q·k or q·scale may overflow float (a, b up to 37, c down to −44). Every product q_c·k_c and q_c·scale
    /// stays normal (a + b ≥ −30, a + c ≥ −30), so no subnormal intermediate is involved and the tolerance is exact.
    /// Values at ordinary, huge (±3e38) or tiny (1e-30) magnitude.
    /// </summary>
    public static TheoryData<int> Seeds() => new(Enumerable.Range(0, 24));

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Fuzz_ExtremeMagnitudesWithModerateScores_MatchTheReference(int seed)
    {
        var rng = new Random(9000 + seed);
        int[] nqs = [1, 2, 3, 4, 5, 33, 70];
        int[] nks = [1, 7, 64, 65, 130];
        int[] ds = [1, 3, 5, 17, 67];
        int[] dvs = [1, 6, 13];
        int nq = nqs[rng.Next(nqs.Length)], nk = nks[rng.Next(nks.Length)], d = ds[rng.Next(ds.Length)], dv = dvs[rng.Next(dvs.Length)];
        int a, b, c;
        do
        {
            a = rng.Next(-18, 38);
            b = rng.Next(-18, 38);
            c = -(a + b) + rng.Next(-2, 2) - (int)Math.Round(Math.Log10(d));
        }
        while (c < -44 || c > 38 || a + b < -30 || a + c < -30);

        double vMagnitude = rng.Next(3) switch { 0 => 1, 1 => 3e38, _ => 1e-30 };
        var q = Fill(nq * d, _ => Signed(rng, Math.Pow(10, a)));
        var k = Fill(nk * d, _ => Signed(rng, Math.Pow(10, b)));
        var v = Fill(nk * dv, _ => vMagnitude == 3e38 ? Signed(rng, 1.5e38) * 2 : Signed(rng, vMagnitude));
        float scale = (float)(Math.Pow(10, c) * (0.5 + rng.NextDouble()));
        if (scale == 0 || !float.IsFinite(scale))
        {
            scale = float.Epsilon;
        }

        var options = new AttentionOptions { Scale = scale, IsCausal = rng.Next(2) == 0 };
        RedRunner.CheckAll(q, k, v, nq, nk, d, dv, options, $"seed {seed}: q~1e{a} k~1e{b} scale {scale:R} |v|~{vMagnitude:G2}", degrees: [0, -1]);
    }

    /// <summary>Rows where only some scores overflow: a few keys of norm 1e20 (positive or negative alignment) among ordinary ones; 1,100 keys.</summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(3, true)]
    [InlineData(70, false)]
    [InlineData(70, true)]
    public void SomeScoresOverflow_LongRows_MatchTheReference(int nq, bool causal)
    {
        const int nk = 1100, d = 19, dv = 21;
        var rng = new Random(nq * 13 + (causal ? 1 : 0));
        var q = Fill(nq * d, _ => Signed(rng, 1));
        var k = Fill(nk * d, _ => Signed(rng, 1));
        foreach (int j in new[] { 5, 300, 1099 })
        {
            for (int c = 0; c < d; c++)
            {
                k[j * d + c] = Signed(rng, 1e20);
            }
        }

        var v = Fill(nk * dv, _ => Signed(rng, 2));
        RedRunner.CheckAll(q, k, v, nq, nk, d, dv, new AttentionOptions { IsCausal = causal, Scale = 1f }, "some scores overflow",
                           degrees: nq > 4 ? [2] : [0, 2], multiHead: nq <= 4, pitched: nq <= 4);
    }

    /// <summary>Values at ±3e38 with ordinary, nearly tied scores: the convex combination is finite, sums of unnormalised terms are not.</summary>
    [Theory]
    [InlineData(1, 200)]
    [InlineData(4, 129)]
    [InlineData(70, 300)]
    public void ValuesAtTheFloatLimit_MixedSigns(int nq, int nk)
    {
        const int d = 9, dv = 35;
        var rng = new Random(nq + nk);
        var q = Fill(nq * d, _ => Signed(rng, 0.01));
        var k = Fill(nk * d, _ => Signed(rng, 0.01));
        var v = Fill(nk * dv, i => i % 3 == 0 ? 3.4e38f : Signed(rng, 3e38));
        RedRunner.CheckAll(q, k, v, nq, nk, d, dv, new AttentionOptions { IsCausal = nq > 1 }, "|v| = 3e38", degrees: nq > 4 ? [-1] : [0, -1]);
    }

    /// <summary>The extreme scales on ordinary inputs: 1.4e-45 (every score ≈ 0: uniform weights) and 3.4e38 (arg-max).</summary>
    [Theory]
    [InlineData(1.4e-45f, 1)]
    [InlineData(1.4e-45f, 70)]
    [InlineData(3.4028235e38f, 2)]
    [InlineData(3.4028235e38f, 70)]
    public void ScaleExtremes_MatchTheReference(float scale, int nq)
    {
        const int nk = 90, d = 13, dv = 7;
        var rng = new Random(nq);
        var q = Fill(nq * d, _ => Signed(rng, 1));
        var k = Fill(nk * d, _ => Signed(rng, 1));
        var v = Fill(nk * dv, _ => Signed(rng, 1));
        RedRunner.CheckAll(q, k, v, nq, nk, d, dv, new AttentionOptions { Scale = scale, IsCausal = true }, $"scale {scale:R}", degrees: [0]);
    }

    /// <summary>
    /// FAILS (tiled kernel). All inputs normal floats: q_c alternates 1.49·2⁻²³ and −0.51·2⁻²³, scale = 2⁻¹²⁶ (the smallest
    /// normal float), key 0 = 2¹²⁷ in every channel, key 1 = 0; v = [+1, −1]; d = 4096. Exact score 0 is
    /// Σ q_c·k_c·scale = 2048·0.98·2⁻²² = 4.8e-4, so the output is tanh(s/2) ≈ 2.39e-4. The row-by-row and decode
    /// kernels form q·k first (≈ 2¹¹⁵, normal) and get it. The tiled kernel pre-scales q' = q·scale = ±1.49/0.51·2⁻¹⁴⁹,
    /// which rounds to ±2⁻¹⁴⁹ (one subnormal unit): the score becomes 0 and the output 0. An intermediate of the
    /// kernel's own making, not an input, is subnormal; Auto with ≥ 32 query rows takes the tiled kernel, so Auto's
    /// answer depends on the number of rows (the class 5).
    /// </summary>
    [Theory]
    [InlineData(AttentionKernel.Tiled, 64)]
    [InlineData(AttentionKernel.Auto, 64)]
    [InlineData(AttentionKernel.RowByRow, 64)]
    [InlineData(AttentionKernel.Auto, 1)]
    public void SubnormalPrescaledQuery_LosesTheScore(AttentionKernel kernel, int nq)
    {
        const int d = 4096, nk = 2, dv = 1;
        var q = Fill(nq * d, i => i % 2 == 0 ? 1.49f * MathF.Pow(2, -23) : -0.51f * MathF.Pow(2, -23));
        var k = Fill(nk * d, i => i < d ? MathF.Pow(2, 127) : 0f);
        float[] v = [1f, -1f];
        var options = new AttentionOptions { Scale = MathF.Pow(2, -126), Kernel = kernel };
        var expected = RedOracle.For(q, k, v, nq, nk, d, dv, options);
        var output = new float[nq * dv];
        Attention.Compute(RedOracle.View(q, nq, d), RedOracle.View(k, nk, d), RedOracle.View(v, nk, dv), RedOracle.Span(output, nq, dv), options);
        RedOracle.AssertClose(expected, output, dv, $"{kernel} nq={nq} (expected ≈ 2.39e-4)");
    }

    /// <summary>
    /// FAILS (row-by-row and decode kernels). The mirror image: q_c = 2⁻⁷⁵, k_c = 0.3·2⁻⁷⁴ (both normal), so every
    /// product is 0.3·2⁻¹⁴⁹, below half a subnormal unit; scale = 2¹²⁷. Exact score 0 is 4096·0.3·2⁻²² = 2.9e-4,
    /// output ≈ 1.46e-4. The float dot product rounds every partial sum back to 0 before the scale can lift it, so
    /// row-by-row and decode return 0. The tiled kernel (q' = q·scale = 2⁵², normal) gets it right.
    /// </summary>
    [Theory]
    [InlineData(AttentionKernel.RowByRow, 1)]
    [InlineData(AttentionKernel.Decode, 1)]
    [InlineData(AttentionKernel.Auto, 1)]
    [InlineData(AttentionKernel.Tiled, 64)]
    public void SubnormalProducts_HugeScale_LoseTheScore(AttentionKernel kernel, int nq)
    {
        const int d = 4096, nk = 2, dv = 1;
        var q = Fill(nq * d, _ => MathF.Pow(2, -75));
        var k = Fill(nk * d, i => i < d ? 0.3f * MathF.Pow(2, -74) : 0f);
        float[] v = [1f, -1f];
        var options = new AttentionOptions { Scale = MathF.Pow(2, 127), Kernel = kernel };
        var expected = RedOracle.For(q, k, v, nq, nk, d, dv, options);
        var output = new float[nq * dv];
        Attention.Compute(RedOracle.View(q, nq, d), RedOracle.View(k, nk, d), RedOracle.View(v, nk, dv), RedOracle.Span(output, nq, dv), options);
        RedOracle.AssertClose(expected, output, dv, $"{kernel} nq={nq} (expected ≈ 1.46e-4)");
    }

    /// <summary>
    /// FAILS (every kernel). Sum normalisation is scale-invariant: w_j = s_j / Σ s. q = k = 1e-23 (normal floats),
    /// d = 4, scale 1: every exact score is 4e-46, the weights are 1/n and the output is the mean of the values
    /// (here 2.5). The kernels' float products 1e-46 round to 0, the float sum is 0, "a zero sum gives zero weights", and
    /// the output is 0. Nothing non-finite appears, so no row is recomputed in double.
    /// </summary>
    [Theory]
    [InlineData(AttentionKernel.Auto, 1)]
    [InlineData(AttentionKernel.RowByRow, 3)]
    [InlineData(AttentionKernel.Tiled, 70)]
    public void SumNormalisation_UnderflowingScores_GiveZeroNotTheMean(AttentionKernel kernel, int nq)
    {
        const int d = 4, nk = 4, dv = 1;
        var q = Fill(nq * d, _ => 1e-23f);
        var k = Fill(nk * d, _ => 1e-23f);
        float[] v = [1f, 2f, 3f, 4f];
        var options = new AttentionOptions { Scale = 1f, Normalization = AttentionNormalization.Sum, Kernel = kernel };
        var expected = RedOracle.For(q, k, v, nq, nk, d, dv, options);
        Assert.Equal(2.5f, expected.Output[0], 5);
        var output = new float[nq * dv];
        Attention.Compute(RedOracle.View(q, nq, d), RedOracle.View(k, nk, d), RedOracle.View(v, nk, dv), RedOracle.Span(output, nq, dv), options);
        RedOracle.AssertClose(expected, output, dv, $"Sum, q = k = 1e-23, {kernel}");
    }

    /// <summary>
    /// FAILS (every kernel). Sum normalisation with the smallest valid scale, float.Epsilon = 1.4e-45, on positive
    /// ordinary inputs: the exact weights are those of scale 1 (the scale cancels), but the float scores are 0, 1 or 2
    /// subnormal units, so the weights come out as small rationals unrelated to the scores, or all zero.
    /// </summary>
    [Fact]
    public void SumNormalisation_SmallestScale_GivesWrongWeights()
    {
        const int nq = 2, nk = 5, d = 3, dv = 2;
        var rng = new Random(5);
        var q = Fill(nq * d, _ => (float)(0.2 + 0.8 * rng.NextDouble()));
        var k = Fill(nk * d, _ => (float)(0.2 + 0.8 * rng.NextDouble()));
        var v = Fill(nk * dv, i => i);
        RedRunner.CheckAll(q, k, v, nq, nk, d, dv, new AttentionOptions { Scale = float.Epsilon, Normalization = AttentionNormalization.Sum },
                           "Sum, scale = 1.4e-45", degrees: [0], multiHead: false, pitched: false);
    }

    /// <summary>Sum normalisation, well-conditioned (positive scores) at extreme magnitudes that keep every product normal.</summary>
    [Theory]
    [InlineData(1e15f, 1e15f, 1e-20f)]
    [InlineData(1e19f, 1e19f, 1f)]
    [InlineData(3e38f, 1f, 3e-38f)]
    [InlineData(1e-10f, 1e-10f, 1e30f)]
    public void SumNormalisation_ExtremeMagnitudes_MatchTheReference(float qMagnitude, float kMagnitude, float scale)
    {
        const int nq = 5, nk = 70, d = 6, dv = 3;
        var rng = new Random(77);
        var q = Fill(nq * d, _ => (float)(qMagnitude * (0.5 + 0.5 * rng.NextDouble())));
        var k = Fill(nk * d, _ => (float)(kMagnitude * (0.5 + 0.5 * rng.NextDouble())));
        var v = Fill(nk * dv, _ => Signed(rng, 1));
        RedRunner.CheckAll(q, k, v, nq, nk, d, dv, new AttentionOptions { Scale = scale, Normalization = AttentionNormalization.Sum, IsCausal = true },
                           $"Sum q~{qMagnitude:G2} k~{kMagnitude:G2} scale {scale:G2}", degrees: [0]);
    }
}
