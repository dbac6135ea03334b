using CommunityToolkit.HighPerformance;
using SelfAttention.Reference;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Semantics;

/// <summary>The documented semantics (DESIGN §4), each checked directly from its definition rather than against the reference.</summary>
public class AttentionSemanticsTests
{
    public static TheoryData<AttentionKernel> Kernels => TestInputs.KernelData;

    /// <summary>
    /// Bottom-right causal alignment: row i sees key j iff j ≤ i + nk − nq. With nq = 3, nk = 5 the rows see 3, 4, 5 keys
    /// (a KV-cache decode: the last query sees everything); with nq = 5, nk = 3 they see 0, 0, 1, 2, 3.
    /// </summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void Causal_IsAlignedBottomRight(AttentionKernel kernel)
    {
        foreach (var (nq, nk, visibleCounts) in new[] { (3, 5, new[] { 3, 4, 5 }), (5, 3, new[] { 0, 0, 1, 2, 3 }), (1, 6, new[] { 6 }), (4, 4, new[] { 1, 2, 3, 4 }) })
        {
            float[] q = TestInputs.Uniform(new Random(1), nq * 4, 1f), k = TestInputs.Uniform(new Random(2), nk * 4, 1f);
            var output = new float[nq, 4];
            var weights = new float[nq, nk];
            Attention.Compute(new ReadOnlySpan2D<float>(q, nq, 4), new ReadOnlySpan2D<float>(k, nk, 4), new ReadOnlySpan2D<float>(k, nk, 4),
                              output.AsSpan2D(), weights.AsSpan2D(), new AttentionOptions { IsCausal = true, Kernel = kernel });
            for (int i = 0; i < nq; i++)
            {
                for (int j = 0; j < nk; j++)
                {
                    bool visible = j < visibleCounts[i];
                    Assert.True(visible ? weights[i, j] > 0f : weights[i, j] == 0f, $"{kernel}, nq={nq} nk={nk}: row {i} should see {visibleCounts[i]} keys, weights[{i}, {j}] = {weights[i, j]}.");
                }
            }
        }
    }

    /// <summary>The default scale is 1/√d: leaving it unset gives bit-for-bit what passing 1/√d gives, and differs from scale 1.</summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void DefaultScale_IsOneOverSquareRootOfHeadDim(AttentionKernel kernel)
    {
        const int nq = 9, nk = 70, d = 48;
        var rng = new Random(4);
        float[] q = TestInputs.Uniform(rng, nq * d, 1f), k = TestInputs.Uniform(rng, nk * d, 1f), v = TestInputs.Uniform(rng, nk * d, 1f);
        float[] Run(float? scale)
        {
            var output = new float[nq * d];
            Attention.Compute(new ReadOnlySpan2D<float>(q, nq, d), new ReadOnlySpan2D<float>(k, nk, d), new ReadOnlySpan2D<float>(v, nk, d),
                              new Span2D<float>(output, nq, d), new AttentionOptions { Scale = scale, Kernel = kernel });
            return output;
        }

        float[] byDefault = Run(null);
        Assert.Equal(Run(1f / MathF.Sqrt(d)), byDefault);
        Assert.NotEqual(Run(1f), byDefault);
    }

    /// <summary>A zero query row scores 0 against every key: softmax weights are uniform and the output is the mean of the visible values.</summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void ZeroQuery_AveragesTheVisibleValues(AttentionKernel kernel)
    {
        const int nq = 6, nk = 9, d = 5, dv = 7;
        var rng = new Random(6);
        float[] q = new float[nq * d], k = TestInputs.Uniform(rng, nk * d, 3f), v = TestInputs.Uniform(rng, nk * dv, 1f);
        foreach (bool causal in new[] { false, true })
        {
            var output = new float[nq, dv];
            Attention.Compute(new ReadOnlySpan2D<float>(q, nq, d), new ReadOnlySpan2D<float>(k, nk, d), new ReadOnlySpan2D<float>(v, nk, dv),
                              output.AsSpan2D(), new AttentionOptions { IsCausal = causal, Kernel = kernel });
            for (int i = 0; i < nq; i++)
            {
                int visible = causal ? i + nk - nq + 1 : nk;
                for (int c = 0; c < dv; c++)
                {
                    double mean = Enumerable.Range(0, visible).Average(j => (double)v[j * dv + c]);
                    Assert.True(Math.Abs(output[i, c] - mean) <= 1e-6, $"{kernel}, causal={causal}: output[{i}, {c}] = {output[i, c]:R}, expected the mean of {visible} values {mean:R}.");
                }
            }
        }
    }

    /// <summary>Sum normalisation divides by the plain sum; a row whose visible scores sum to 0 gets zero weights and a zero output, never NaN.</summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void SumNormalisation_ZeroSumGivesZeros(AttentionKernel kernel)
    {
        // Against keys [1, 0] and [−1, 0] every row's scores sum to 0: row 0 is zero, rows 1 and 2 score [1, −1].
        float[] q = [0f, 0f, 1f, 0f, 1f, 1f];
        float[] k = [1f, 0f, -1f, 0f];
        float[] v = [1f, 2f, 3f, 4f, 5f, 6f];
        var output = new float[3, 3];
        var weights = new float[3, 2];
        var options = new AttentionOptions { Normalization = AttentionNormalization.Sum, Scale = 1f, Kernel = kernel };
        Attention.Compute(new ReadOnlySpan2D<float>(q, 3, 2), new ReadOnlySpan2D<float>(k, 2, 2), new ReadOnlySpan2D<float>(v, 2, 3),
                          output.AsSpan2D(), weights.AsSpan2D(), options);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(weights[i, 0] == 0f && weights[i, 1] == 0f, $"{kernel}: row {i} scores sum to 0, weights [{weights[i, 0]}, {weights[i, 1]}].");
            for (int c = 0; c < 3; c++)
            {
                Assert.True(output[i, c] == 0f, $"{kernel}: row {i} scores sum to 0, output[{i}, {c}] = {output[i, c]}.");
            }
        }

        // A third key [2, 1] makes row 2 ordinary.
        float[] k3 = [1f, 0f, -1f, 0f, 2f, 1f];
        float[] v3 = [1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f];
        var output3 = new float[3, 3];
        var weights3 = new float[3, 3];
        Attention.Compute(new ReadOnlySpan2D<float>(q, 3, 2), new ReadOnlySpan2D<float>(k3, 3, 2), new ReadOnlySpan2D<float>(v3, 3, 3),
                          output3.AsSpan2D(), weights3.AsSpan2D(), options);

        // Row 2 (q = [1, 1]): scores [1, −1, 3], sum 3: weights [1/3, −1/3, 1], output = (v0 − v1)/3 + v2.
        float[] expectedWeights = [1f / 3, -1f / 3, 1f];
        for (int j = 0; j < 3; j++)
        {
            Assert.True(Math.Abs(weights3[2, j] - expectedWeights[j]) <= 1e-6, $"{kernel}: sum-normalised weights[2, {j}] = {weights3[2, j]:R}, expected {expectedWeights[j]:R}.");
        }

        for (int c = 0; c < 3; c++)
        {
            double expected = (v3[c] - v3[3 + c]) / 3.0 + v3[6 + c];
            Assert.True(Math.Abs(output3[2, c] - expected) <= 1e-5, $"{kernel}: sum-normalised output[2, {c}] = {output3[2, c]:R}, expected {expected:R}.");
        }
    }

    /// <summary>The reference agrees with the same definitions (it is the oracle of every other test).</summary>
    [Fact]
    public void Reference_CausalAlignmentAndZeroRows()
    {
        float[] x = TestInputs.Uniform(new Random(9), 5 * 3, 1f);
        var output = new float[5, 3];
        var weights = new float[5, 2];
        NaiveAttention.Compute(new ReadOnlySpan2D<float>(x, 5, 3), new ReadOnlySpan2D<float>(x, 2, 3), new ReadOnlySpan2D<float>(x, 2, 3),
                               output.AsSpan2D(), weights.AsSpan2D(), new AttentionOptions { IsCausal = true });
        int[] visible = [0, 0, 0, 1, 2];
        for (int i = 0; i < 5; i++)
        {
            for (int j = 0; j < 2; j++)
            {
                Assert.True(j < visible[i] ? weights[i, j] > 0f : weights[i, j] == 0f, $"reference weights[{i}, {j}] = {weights[i, j]}");
            }

            for (int c = 0; c < 3 && visible[i] == 0; c++)
            {
                Assert.True(output[i, c] == 0f, $"reference output[{i}, {c}] = {output[i, c]} in a row that sees no key.");
            }
        }

        Assert.Equal(1f, weights[3, 0]);
        Assert.Equal(x[0], output[3, 0]);
    }
}
