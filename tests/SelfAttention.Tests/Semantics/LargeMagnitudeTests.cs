using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Semantics;

/// <summary>Inputs of magnitude ~1000 (scores of ~10⁶–10⁷): the max-subtracted softmax keeps everything finite.</summary>
public class LargeMagnitudeTests
{
    public static TheoryData<AttentionKernel, int, int, int, bool> Cases
    {
        get
        {
            var data = new TheoryData<AttentionKernel, int, int, int, bool>();
            foreach (var kernel in TestInputs.Kernels)
            {
                data.Add(kernel, 17, 17, 64, false);
                data.Add(kernel, 65, 129, 64, true);
                data.Add(kernel, 1, 200, 128, false);
                data.Add(kernel, 3, 3, 4, true);
            }

            return data;
        }
    }

    /// <summary>
    /// Outputs are finite and, since softmax weights are a convex combination, each output element lies between the
    /// smallest and largest value of its column over the visible keys (up to a float rounding of the values' size).
    /// The weights overload gives finite weights in [0, 1] whose rows sum to 1.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Magnitude1000_GivesFiniteConvexOutputs(AttentionKernel kernel, int nq, int nk, int d, bool causal)
    {
        var rng = new Random(nq + nk + d);
        float[] q = TestInputs.Uniform(rng, nq * d, 1000f), k = TestInputs.Uniform(rng, nk * d, 1000f), v = TestInputs.Uniform(rng, nk * d, 1000f);
        var query = GuardedMatrix.Input(nq, d, q, rng, true);
        var key = GuardedMatrix.Input(nk, d, k, rng, true);
        var value = GuardedMatrix.Input(nk, d, v, rng, true);
        var output = GuardedMatrix.Output(nq, d, rng, true);
        var weightsOutput = GuardedMatrix.Output(nq, d, rng, true);
        var weights = GuardedMatrix.Output(nq, nk, rng, true);
        var options = new AttentionOptions { IsCausal = causal, Kernel = kernel };
        string context = $"{kernel}, magnitude 1000, nq={nq} nk={nk} d={d} causal={causal}";

        Attention.Compute(query.ReadOnlyView, key.ReadOnlyView, value.ReadOnlyView, output.View, options);
        Attention.Compute(query.ReadOnlyView, key.ReadOnlyView, value.ReadOnlyView, weightsOutput.View, weights.View, options);
        output.AssertGuardsIntact(context);
        weightsOutput.AssertGuardsIntact(context);
        weights.AssertGuardsIntact(context);

        foreach (var (result, name) in new[] { (output, "output"), (weightsOutput, "output with weights") })
        {
            for (int i = 0; i < nq; i++)
            {
                int visible = causal ? Math.Clamp(i + nk - nq + 1, 0, nk) : nk;
                for (int c = 0; c < d; c++)
                {
                    float low = float.PositiveInfinity, high = float.NegativeInfinity;
                    for (int j = 0; j < visible; j++)
                    {
                        low = Math.Min(low, value[j, c]);
                        high = Math.Max(high, value[j, c]);
                    }

                    float o = result[i, c];
                    Assert.True(float.IsFinite(o), $"{context}: {name}[{i}, {c}] = {o}.");
                    Assert.True(visible == 0 ? o == 0f : o >= low - 1e-3f && o <= high + 1e-3f, $"{context}: {name}[{i}, {c}] = {o:R} outside [{low}, {high}].");
                }
            }
        }

        for (int i = 0; i < nq; i++)
        {
            double sum = 0;
            for (int j = 0; j < nk; j++)
            {
                float w = weights[i, j];
                Assert.True(w >= 0f && w <= 1f, $"{context}: weights[{i}, {j}] = {w}.");
                sum += w;
            }

            Assert.True(Math.Abs(sum - 1) <= 1e-5, $"{context}: weights row {i} sums to {sum:R}.");
        }
    }

    /// <summary>Equal huge scores ([1000, 1000]-style rows: every key identical): uniform weights, output the mean of the values.</summary>
    [Theory]
    [MemberData(nameof(TestInputs.KernelData), MemberType = typeof(TestInputs))]
    public void EqualHugeScores_GiveUniformWeights(AttentionKernel kernel)
    {
        const int nq = 5, nk = 40, d = 32;
        float[] qk = Enumerable.Repeat(1000f, Math.Max(nq, nk) * d).ToArray();
        float[] v = TestInputs.Uniform(new Random(8), nk * d, 1f);
        var output = new float[nq, d];
        var weights = new float[nq, nk];
        var options = new AttentionOptions { Kernel = kernel, Scale = 1f };
        var q = new CommunityToolkit.HighPerformance.ReadOnlySpan2D<float>(qk, nq, d);
        var k = new CommunityToolkit.HighPerformance.ReadOnlySpan2D<float>(qk, nk, d);
        var values = new CommunityToolkit.HighPerformance.ReadOnlySpan2D<float>(v, nk, d);
        Attention.Compute(q, k, values, CommunityToolkit.HighPerformance.ArrayExtensions.AsSpan2D(output), CommunityToolkit.HighPerformance.ArrayExtensions.AsSpan2D(weights), options);
        var plain = new float[nq, d];
        Attention.Compute(q, k, values, CommunityToolkit.HighPerformance.ArrayExtensions.AsSpan2D(plain), options);

        for (int i = 0; i < nq; i++)
        {
            for (int j = 0; j < nk; j++)
            {
                Assert.True(Math.Abs(weights[i, j] - 1.0 / nk) <= 1e-7, $"{kernel}: scores of 3.2e7 each, weight [{i}, {j}] = {weights[i, j]:R}, expected 1/{nk}.");
            }

            for (int c = 0; c < d; c++)
            {
                double mean = Enumerable.Range(0, nk).Average(j => (double)v[j * d + c]);
                Assert.True(Math.Abs(output[i, c] - mean) <= 1e-6 && Math.Abs(plain[i, c] - mean) <= 1e-6, $"{kernel}: output [{i}, {c}] = {output[i, c]:R} / {plain[i, c]:R}, expected the mean {mean:R}.");
            }
        }
    }
}
