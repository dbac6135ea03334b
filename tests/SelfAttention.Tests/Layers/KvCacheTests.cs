using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Layers;

/// <summary>
/// Incremental decoding: a prompt's prefill followed by token-by-token steps against a <see cref="KvCache"/> gives the
/// outputs of one causal pass over all tokens. Tolerances: float storage abs 1e-5 + rel 1e-5 (the two paths run
/// different kernels, so only float rounding differs); Half storage abs 3e-3 + rel 3e-3 (keys and values rounded to
/// half, relative error 2⁻¹¹ each, passed through softmax and two projections). Half against float attention over the
/// same half-rounded keys and values: abs 1e-5 + rel 1e-5, which shows the Half path reads exactly what was stored.
/// </summary>
public class KvCacheTests
{
    public static TheoryData<int, int, int, int, int, int, KvCacheStorage> Sequences()
    {
        var data = new TheoryData<int, int, int, int, int, int, KvCacheStorage>();
        // modelDim, heads, kvHeads, batch, tokens, prefill
        foreach (var (e, h, kvh, b, n, prefill) in new[] { (32, 4, 4, 1, 9, 3), (48, 6, 2, 2, 17, 1), (32, 4, 1, 1, 70, 65), (64, 8, 2, 1, 130, 0), (24, 3, 3, 2, 5, 5) })
        {
            data.Add(e, h, kvh, b, n, prefill, KvCacheStorage.Single);
            data.Add(e, h, kvh, b, n, prefill, KvCacheStorage.Half);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Sequences))]
    public void PrefillThenDecode_MatchesOneCausalPass(int modelDim, int heads, int kvHeads, int batch, int tokens, int prefill, KvCacheStorage storage)
    {
        var layer = MultiHeadAttention.CreateRandom(modelDim, heads, seed: 3, kvHeads);
        var rng = new Random(tokens * 7 + prefill);
        float[] input = TestInputs.Uniform(rng, batch * tokens * modelDim, 1f);
        var causal = new AttentionOptions { IsCausal = true };
        float[] expected = new float[input.Length];
        layer.Forward(input, expected, batch, tokens, causal);

        var cache = new KvCache(tokens + 3, layer.KvHeads, layer.HeadDim, batch: batch, storage: storage);
        float[] actual = new float[input.Length];
        Step(layer, cache, input, actual, batch, tokens, modelDim, 0, prefill, causal);
        for (int t = prefill; t < tokens; t++)
        {
            Step(layer, cache, input, actual, batch, tokens, modelDim, t, 1, causal);
        }

        Assert.Equal(tokens, cache.Length);
        double tolerance = storage == KvCacheStorage.Single ? 1e-5 : 3e-3;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance + tolerance * Math.Abs(expected[i]),
                $"{storage} E={modelDim} H={heads} KvH={kvHeads} B={batch} n={tokens} prefill={prefill}: element {i} expected {expected[i]}, actual {actual[i]}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(9)]
    public void HalfStorage_EqualsFloatAttentionOverHalfRoundedInputs(int queryLength)
    {
        const int batch = 2, heads = 6, kvHeads = 3, headDim = 20, valueDim = 12, cached = 150;
        var rng = new Random(queryLength);
        float[] keys = TestInputs.Uniform(rng, batch * cached * kvHeads * headDim, 1f);
        float[] values = TestInputs.Uniform(rng, batch * cached * kvHeads * valueDim, 1f);
        float[] query = TestInputs.Uniform(rng, batch * queryLength * heads * headDim, 1f);
        var cache = new KvCache(cached + 10, kvHeads, headDim, valueDim, batch, KvCacheStorage.Half);
        cache.Append(keys, values, cached);
        float[] actual = new float[batch * queryLength * heads * valueDim];
        var options = new AttentionOptions { IsCausal = true };
        cache.Attend(query, actual, heads, queryLength, options);

        float[] roundedKeys = keys.Select(x => (float)(Half)x).ToArray(), roundedValues = values.Select(x => (float)(Half)x).ToArray();
        float[] expected = new float[actual.Length];
        var shape = new AttentionShape(batch, queryLength, cached, heads, headDim) { KvHeads = kvHeads, ValueDim = valueDim };
        Reference.NaiveAttention.ComputeMultiHead(query, roundedKeys, roundedValues, expected, shape, options);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 + 1e-5 * Math.Abs(expected[i]), $"nq={queryLength}: element {i} expected {expected[i]}, actual {actual[i]}");
        }
    }

    [Fact]
    public void Append_PastCapacity_ThrowsBeforeAnyWrite_AndTruncateClearRewind()
    {
        var cache = new KvCache(4, kvHeads: 1, headDim: 2);
        cache.Append([1, 2, 3, 4, 5, 6], [1, 1, 2, 2, 3, 3], 3);
        var e = Assert.Throws<ArgumentException>(() => cache.Append([1, 2, 3, 4], [1, 2, 3, 4], 2));
        Assert.Equal("tokenCount", e.ParamName);
        Assert.Contains("expected at most 1", e.Message);
        Assert.Equal(3, cache.Length);

        // The cache still holds exactly the first three tokens: one query equal to the third key attends over them.
        float[] output = new float[2];
        cache.Attend([0, 0], output, heads: 1, queryLength: 1);
        Assert.Equal(2f, output[0], 5);

        cache.Truncate(1);
        Assert.Equal(1, cache.Length);
        cache.Attend([5, 5], output, heads: 1, queryLength: 1);
        Assert.Equal(new[] { 1f, 1f }, output);
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Truncate(2));
        cache.Clear();
        Assert.Equal(0, cache.Length);
        cache.Attend([5, 5], output, heads: 1, queryLength: 1);
        Assert.Equal(new[] { 0f, 0f }, output);

        e = Assert.ThrowsAny<ArgumentException>(() => cache.Append([1, 2, 3], [1, 2], 1));
        Assert.Equal("keys", e.ParamName);
        e = Assert.ThrowsAny<ArgumentException>(() => cache.Attend([1, 2], output, heads: 2, queryLength: 1));
        Assert.Equal("query", e.ParamName);
    }

    [Fact]
    public void LayerWithCache_FullCacheOrMismatch_ThrowsWithoutChangingTheCache()
    {
        var layer = MultiHeadAttention.CreateRandom(16, 2, seed: 1);
        var cache = new KvCache(2, layer.KvHeads, layer.HeadDim);
        float[] input = new float[3 * 16], output = new float[3 * 16];
        Array.Fill(output, 12345f);
        var e = Assert.ThrowsAny<ArgumentException>(() => layer.Forward(input, output, 1, 3, cache));
        Assert.Equal("cache", e.ParamName);
        Assert.Equal(0, cache.Length);
        Assert.All(output, x => Assert.Equal(12345f, x));
        e = Assert.ThrowsAny<ArgumentException>(() => layer.Forward(input.AsSpan(0, 16), output.AsSpan(0, 16), 1, 1, new KvCache(4, 1, layer.HeadDim)));
        Assert.Equal("cache", e.ParamName);
    }

    private static void Step(MultiHeadAttention layer, KvCache cache, float[] input, float[] output, int batch, int tokens, int modelDim, int first, int count, AttentionOptions options)
    {
        if (count == 0)
        {
            return;
        }

        // Gather tokens [first, first + count) of every batch entry into [batch, count, modelDim] and scatter back.
        float[] slice = new float[batch * count * modelDim], result = new float[slice.Length];
        for (int b = 0; b < batch; b++)
        {
            Array.Copy(input, (b * tokens + first) * modelDim, slice, b * count * modelDim, count * modelDim);
        }

        layer.Forward(slice, result, batch, count, cache, options);
        for (int b = 0; b < batch; b++)
        {
            Array.Copy(result, b * count * modelDim, output, (b * tokens + first) * modelDim, count * modelDim);
        }
    }
}
