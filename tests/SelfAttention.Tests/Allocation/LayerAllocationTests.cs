using SelfAttention.Kernels;
using SelfAttention.Tests.Helpers;
using SelfAttention.Tokenization;
using Xunit;

namespace SelfAttention.Tests.Allocation;

/// <summary>
/// Steady-state calls of the layer building blocks (embedding lookup, positions, RoPE, tokenizer, the GEMM, the layer
/// with and without weights and threads, the KV cache's append and attend, the layer's decode step) allocate nothing on
/// any thread, each measured in a process of its own (see <see cref="AllocationAssert"/>, <see cref="AllocationProcess"/>). Runs in the allocation collection, alone, like
/// <see cref="AllocationTests"/>: every other test's allocations would count.
/// </summary>
[Collection(AllocationCollection.Name)]
public class LayerAllocationTests
{
    [Fact]
    public void Lookup_AllocatesNothing() =>
        AllocationProcess.Run<LayerAllocationTests>(nameof(LookupScenario));

    private static void LookupScenario()
    {
        var table = EmbeddingTable.CreateRandom(1000, 64, seed: 3);
        int[] ids = [5, 999, 0, 17, 17, 3, 400, 12];
        var destination = new float[ids.Length * 64];
        AllocationAssert.SteadyStateAllocatesNothing(() => table.Lookup(ids, destination), "EmbeddingTable.Lookup");
    }

    [Fact]
    public void AddSinusoidal_AllocatesNothing() =>
        AllocationProcess.Run<LayerAllocationTests>(nameof(AddSinusoidalScenario));

    private static void AddSinusoidalScenario()
    {
        foreach (int modelDim in new[] { 7, 64, 300 })
        {
            var embeddings = new float[32 * modelDim];
            AllocationAssert.SteadyStateAllocatesNothing(() => PositionalEncoding.AddSinusoidal(embeddings, 32, modelDim, startPosition: 10), $"AddSinusoidal d {modelDim}");
            AllocationAssert.SteadyStateAllocatesNothing(() => PositionalEncoding.WriteSinusoidal(embeddings, 32, modelDim), $"WriteSinusoidal d {modelDim}");
        }
    }

    [Fact]
    public void RotaryApply_AllocatesNothing() =>
        AllocationProcess.Run<LayerAllocationTests>(nameof(RotaryApplyScenario));

    private static void RotaryApplyScenario()
    {
        foreach (int headDim in new[] { 6, 64, 128, 258 })
        {
            foreach (var layout in new[] { RotaryLayout.Interleaved, RotaryLayout.HalfSplit })
            {
                var x = TestInputs.Uniform(new Random(1), 16 * 4 * headDim, 1f);
                AllocationAssert.SteadyStateAllocatesNothing(() => RotaryEmbedding.Apply(x, 16, 4, headDim, 100, layout), $"RotaryEmbedding.Apply {layout} headDim {headDim}");
            }
        }
    }

    [Fact]
    public void EncodeIntoSpan_AllocatesNothing() =>
        AllocationProcess.Run<LayerAllocationTests>(nameof(EncodeIntoSpanScenario));

    private static void EncodeIntoSpanScenario()
    {
        var tokenizer = new WordTokenizer();
        var vocabulary = Vocabulary.Build(["Dream big, and work for it!"], tokenizer);
        string text = "Dream BIG, and work for it! " + new string('X', 200);
        var ids = new int[16];
        AllocationAssert.SteadyStateAllocatesNothing(() => tokenizer.Encode(text, vocabulary, ids), "WordTokenizer.Encode(span)");
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(-1, false)]
    public void MultiHeadForward_AllocatesNothing(int degree, bool causal) =>
        AllocationProcess.Run<LayerAllocationTests>(nameof(MultiHeadForwardScenario), degree, causal);

    private static void MultiHeadForwardScenario(int degree, bool causal)
    {
        var layer = MultiHeadAttention.CreateRandom(64, 4, seed: 1, kvHeads: 2);
        var rng = new Random(1);
        float[] input = TestInputs.Uniform(rng, 2 * 40 * 64, 1f), output = new float[input.Length];
        var options = new AttentionOptions { MaxDegreeOfParallelism = degree, IsCausal = causal };
        AllocationAssert.SteadyStateAllocatesNothing(() => layer.Forward(input, output, 2, 40, options), $"MultiHeadAttention.Forward degree {degree} causal {causal}");
    }

    [Theory]
    [InlineData(AttentionWeightsMode.PerHead, 1)]
    [InlineData(AttentionWeightsMode.AverageOverHeads, 1)]
    [InlineData(AttentionWeightsMode.AverageOverHeads, -1)]
    public void MultiHeadForwardWithWeights_AllocatesNothing(AttentionWeightsMode mode, int degree) =>
        AllocationProcess.Run<LayerAllocationTests>(nameof(MultiHeadForwardWithWeightsScenario), mode, degree);

    private static void MultiHeadForwardWithWeightsScenario(AttentionWeightsMode mode, int degree)
    {
        const int batch = 2, queryLength = 24, keyLength = 56, heads = 4;
        var layer = MultiHeadAttention.CreateRandom(64, heads, seed: 4);
        var rng = new Random(4);
        float[] query = TestInputs.Uniform(rng, batch * queryLength * 64, 1f), keyValue = TestInputs.Uniform(rng, batch * keyLength * 64, 1f);
        float[] output = new float[query.Length];
        float[] weights = new float[batch * (mode == AttentionWeightsMode.PerHead ? heads : 1) * queryLength * keyLength];
        var options = new AttentionOptions { MaxDegreeOfParallelism = degree };
        AllocationAssert.SteadyStateAllocatesNothing(() => layer.Forward(query, keyValue, output, weights, mode, batch, queryLength, keyLength, options),
            $"MultiHeadAttention.Forward with {mode} weights, degree {degree}");
    }

    /// <summary>
    /// Append then Attend, at a fixed cache length (truncated back before each append): the decode rows a kernel serves in
    /// place (1 and 4), and 16 rows, which Half storage serves by widening the cached prefix into pooled buffers.
    /// </summary>
    [Theory]
    [InlineData(KvCacheStorage.Single, 1, 1)]
    [InlineData(KvCacheStorage.Single, 16, -1)]
    [InlineData(KvCacheStorage.Half, 1, 1)]
    [InlineData(KvCacheStorage.Half, 4, 2)]
    [InlineData(KvCacheStorage.Half, 16, -1)]
    public void KvCacheAppendAttend_AllocatesNothing(KvCacheStorage storage, int queryLength, int degree) =>
        AllocationProcess.Run<LayerAllocationTests>(nameof(KvCacheAppendAttendScenario), storage, queryLength, degree);

    private static void KvCacheAppendAttendScenario(KvCacheStorage storage, int queryLength, int degree)
    {
        const int kvHeads = 2, heads = 8, headDim = 64, cached = 300;
        var cache = new KvCache(cached + queryLength, kvHeads, headDim, storage: storage);
        var rng = new Random(queryLength);
        cache.Append(TestInputs.Uniform(rng, cached * kvHeads * headDim, 1f), TestInputs.Uniform(rng, cached * kvHeads * headDim, 1f), cached);
        float[] keys = TestInputs.Uniform(rng, queryLength * kvHeads * headDim, 1f), values = TestInputs.Uniform(rng, queryLength * kvHeads * headDim, 1f);
        float[] query = TestInputs.Uniform(rng, queryLength * heads * headDim, 1f), output = new float[query.Length];
        var options = new AttentionOptions { IsCausal = true, MaxDegreeOfParallelism = degree };
        AllocationAssert.SteadyStateAllocatesNothing(() =>
        {
            cache.Truncate(cached);
            cache.Append(keys, values, queryLength);
            cache.Attend(query, output, heads, queryLength, options);
        }, $"KvCache.Append + Attend, {storage}, {queryLength} rows, degree {degree}");
        Assert.Equal(cached + queryLength, cache.Length);
        Assert.All(output, x => Assert.True(float.IsFinite(x)));
    }

    [Theory]
    [InlineData(KvCacheStorage.Single)]
    [InlineData(KvCacheStorage.Half)]
    public void KvCacheDecodeStep_AllocatesNothing(KvCacheStorage storage) =>
        AllocationProcess.Run<LayerAllocationTests>(nameof(KvCacheDecodeStepScenario), storage);

    private static void KvCacheDecodeStepScenario(KvCacheStorage storage)
    {
        var layer = MultiHeadAttention.CreateRandom(64, 4, seed: 2);
        var cache = new KvCache(300, layer.KvHeads, layer.HeadDim, storage: storage);
        var rng = new Random(2);
        float[] prompt = TestInputs.Uniform(rng, 200 * 64, 1f), promptOut = new float[prompt.Length];
        float[] token = TestInputs.Uniform(rng, 64, 1f), tokenOut = new float[64];
        var causal = new AttentionOptions { IsCausal = true };
        layer.Forward(prompt, promptOut, 1, 200, cache, causal);
        AllocationAssert.SteadyStateAllocatesNothing(() =>
        {
            cache.Truncate(200);   // every measured step appends to the same 200-token prompt
            layer.Forward(token, tokenOut, 1, 1, cache, causal);
        }, $"decode step, {storage} cache");
        Assert.Equal(201, cache.Length);
    }

    [Fact]
    public void MatrixMultiply_AllocatesNothing() =>
        AllocationProcess.Run<LayerAllocationTests>(nameof(MatrixMultiplyScenario));

    private static void MatrixMultiplyScenario()
    {
        var rng = new Random(5);
        float[] a = TestInputs.Uniform(rng, 64 * 96, 1f), b = TestInputs.Uniform(rng, 96 * 80, 1f), c = new float[64 * 80];
        AllocationAssert.SteadyStateAllocatesNothing(() => MatrixMultiply.Multiply(a, 96, b, 80, default, c, 80, 64, 80, 96), "MatrixMultiply.Multiply");
    }
}
