using SelfAttention.Reference;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Layers;

/// <summary>
/// The layer against <see cref="NaiveMultiHeadAttention"/> (projections in double, attention through the naive oracle).
/// Tolerance abs 1e-4 + rel 1e-3: the layer projects in float (sums of up to 64 products of values ≤ 1), and those
/// rounding errors pass through softmax and a second projection.
/// </summary>
public class MultiHeadAttentionTests
{
    public static TheoryData<int, int, int, int, int, bool, int, int, int, bool> Configurations() => new()
    {
        // modelDim, heads, kvHeads, headDim, valueDim, bias, batch, queryLength, keyLength, causal
        { 32, 4, 0, 0, 0, true, 2, 9, 9, false },
        { 48, 6, 2, 8, 12, false, 1, 17, 17, true },
        { 20, 2, 1, 7, 5, true, 2, 5, 11, false },
        { 64, 8, 8, 0, 0, true, 1, 65, 65, true },
        { 16, 2, 2, 0, 0, true, 1, 1, 70, false },
        { 24, 3, 3, 0, 0, true, 3, 3, 3, true },
        { 12, 2, 2, 0, 0, false, 1, 4, 0, false },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Forward_MatchesNaiveLayer(int modelDim, int heads, int kvHeads, int headDim, int valueDim, bool bias, int batch, int nq, int nk, bool causal)
    {
        var layer = RandomLayer(modelDim, heads, kvHeads, headDim, valueDim, bias);
        var rng = new Random(modelDim + nq + nk);
        float[] query = TestInputs.Uniform(rng, batch * nq * modelDim, 1f), keyValue = TestInputs.Uniform(rng, batch * nk * modelDim, 1f);
        float[] actual = new float[batch * nq * modelDim], expected = new float[actual.Length];
        var options = new AttentionOptions { IsCausal = causal };
        if (nq == nk)
        {
            // Self-attention through the one-input overload when the lengths agree and the inputs are the same tokens.
            keyValue = query;
            layer.Forward(query, actual, batch, nq, options);
        }
        else
        {
            layer.Forward(query, keyValue, actual, batch, nq, nk, options);
        }

        NaiveMultiHeadAttention.Forward(layer, query, keyValue, expected, batch, nq, nk, options);
        AssertClose(expected, actual, $"E={modelDim} H={heads} KvH={kvHeads} d={headDim} dv={valueDim} bias={bias} B={batch} nq={nq} nk={nk} causal={causal}");

        var threaded = new float[actual.Length];
        layer.Forward(query, keyValue, threaded, batch, nq, nk, options with { MaxDegreeOfParallelism = 2 });
        Assert.Equal(actual, threaded);
    }

    [Theory]
    [InlineData(AttentionWeightsMode.PerHead)]
    [InlineData(AttentionWeightsMode.AverageOverHeads)]
    public void Forward_WithWeights_MatchesNaiveLayer(AttentionWeightsMode mode)
    {
        const int modelDim = 24, heads = 4, batch = 2, nq = 6, nk = 9;
        var layer = RandomLayer(modelDim, heads, 2, 0, 0, true);
        var rng = new Random(3);
        float[] query = TestInputs.Uniform(rng, batch * nq * modelDim, 1f), keyValue = TestInputs.Uniform(rng, batch * nk * modelDim, 1f);
        int weightCount = mode == AttentionWeightsMode.PerHead ? batch * heads * nq * nk : batch * nq * nk;
        float[] output = new float[batch * nq * modelDim], expectedOutput = new float[output.Length];
        float[] weights = new float[weightCount], expectedWeights = new float[weightCount];
        var options = new AttentionOptions { IsCausal = true };

        layer.Forward(query, keyValue, output, weights, mode, batch, nq, nk, options);
        NaiveMultiHeadAttention.Forward(layer, query, keyValue, expectedOutput, expectedWeights, mode, batch, nq, nk, options);

        AssertClose(expectedOutput, output, $"{mode} output");
        AssertClose(expectedWeights, weights, $"{mode} weights");
        int rows = weightCount / nk;
        for (int r = 0; r < rows; r++)
        {
            Assert.Equal(1.0, weights.AsSpan(r * nk, nk).ToArray().Sum(x => (double)x), 4);
        }
    }

    [Fact]
    public void CreateRandom_SameSeedSameWeights_OtherSeedOtherWeights()
    {
        var a = MultiHeadAttention.CreateRandom(32, 4, seed: 11, kvHeads: 2);
        var b = MultiHeadAttention.CreateRandom(32, 4, seed: 11, kvHeads: 2);
        var c = MultiHeadAttention.CreateRandom(32, 4, seed: 12, kvHeads: 2);
        Assert.True(a.QueryWeights.SequenceEqual(b.QueryWeights) && a.OutputWeights.SequenceEqual(b.OutputWeights));
        Assert.False(a.QueryWeights.SequenceEqual(c.QueryWeights));
        float bound = MathF.Sqrt(6f / (32 + 32));
        foreach (float w in a.QueryWeights)
        {
            Assert.InRange(w, -bound, bound);
        }

        Assert.All(a.QueryBias.ToArray(), x => Assert.Equal(0f, x));
        Assert.Equal(32 * 4 * 8, a.QueryWeights.Length);
        Assert.Equal(32 * 2 * 8, a.KeyWeights.Length);
    }

    [Fact]
    public void Forward_BadInput_ThrowsNamingTheParameter_BeforeWriting()
    {
        var layer = MultiHeadAttention.CreateRandom(16, 2, seed: 1);
        float[] input = new float[3 * 16], output = new float[3 * 16];
        Array.Fill(output, 12345f);
        // The self-attention overload's buffer is the caller's "input", not the cross overload's "query".
        var e = Assert.ThrowsAny<ArgumentException>(() => layer.Forward(input.AsSpan(1), output, 1, 3));
        Assert.Equal("input", e.ParamName);
        Assert.Contains("expected 48", e.Message);
        Assert.Contains("actual 47", e.Message);
        e = Assert.ThrowsAny<ArgumentException>(() => layer.Forward(input, output.AsSpan(0, 40), 1, 3));
        Assert.Equal("output", e.ParamName);
        e = Assert.ThrowsAny<ArgumentException>(() => layer.Forward(input, output, -1, 3));
        Assert.Equal("batch", e.ParamName);
        e = Assert.ThrowsAny<ArgumentException>(() => layer.Forward(input, input, 1, 3));
        Assert.Equal("output", e.ParamName);
        e = Assert.ThrowsAny<ArgumentException>(() => layer.Forward(input, input, output, new float[5], AttentionWeightsMode.PerHead, 1, 3, 3));
        Assert.Equal("attentionWeights", e.ParamName);
        Assert.All(output, x => Assert.Equal(12345f, x));
        Assert.ThrowsAny<ArgumentException>(() => new MultiHeadAttention(10, 3));
        Assert.ThrowsAny<ArgumentException>(() => new MultiHeadAttention(12, 4, kvHeads: 3));
    }

    private static MultiHeadAttention RandomLayer(int modelDim, int heads, int kvHeads, int headDim, int valueDim, bool bias)
    {
        var layer = MultiHeadAttention.CreateRandom(modelDim, heads, seed: 99, kvHeads, headDim, valueDim, bias);
        if (bias)
        {
            // Non-zero biases, so that a bias applied to the wrong columns shows.
            var random = new DeterministicRandom(5);
            random.Fill(layer.QueryBias, -0.5f, 0.5f);
            random.Fill(layer.KeyBias, -0.5f, 0.5f);
            random.Fill(layer.ValueBias, -0.5f, 0.5f);
            random.Fill(layer.OutputBias, -0.5f, 0.5f);
        }

        return layer;
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 + 1e-3 * Math.Abs(expected[i]),
                $"{what}: element {i}: expected {expected[i]}, actual {actual[i]}");
        }
    }
}
