using SelfAttention.Kernels;
using SelfAttention.Tests.Helpers;
using SelfAttention.Tokenization;
using Xunit;

namespace SelfAttention.Tests.Allocation;

/// <summary>
/// Steady-state calls of the layer building blocks (embedding lookup, positions, RoPE, tokenizer, the GEMM, the layer
/// and its KV-cache decode step) allocate nothing on the calling thread. Runs in the allocation collection, alone, like
/// <see cref="AllocationTests"/>: run in parallel with other tests, the layer check saw collections started elsewhere
/// and 248 B charged to several of its five measured calls (once in about twenty scalar runs).
/// </summary>
[Collection(AllocationCollection.Name)]
public class LayerAllocationTests
{
    [Fact]
    public void Lookup_AllocatesNothing()
    {
        var table = EmbeddingTable.CreateRandom(1000, 64, seed: 3);
        int[] ids = [5, 999, 0, 17, 17, 3, 400, 12];
        var destination = new float[ids.Length * 64];
        AllocationAssert.SteadyStateAllocatesNothing(() => table.Lookup(ids, destination), "EmbeddingTable.Lookup");
    }

    [Fact]
    public void AddSinusoidal_AllocatesNothing()
    {
        foreach (int modelDim in new[] { 7, 64, 300 })
        {
            var embeddings = new float[32 * modelDim];
            AllocationAssert.SteadyStateAllocatesNothing(() => PositionalEncoding.AddSinusoidal(embeddings, 32, modelDim, startPosition: 10), $"AddSinusoidal d {modelDim}");
            AllocationAssert.SteadyStateAllocatesNothing(() => PositionalEncoding.WriteSinusoidal(embeddings, 32, modelDim), $"WriteSinusoidal d {modelDim}");
        }
    }

    [Fact]
    public void RotaryApply_AllocatesNothing()
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
    public void EncodeIntoSpan_AllocatesNothing()
    {
        var tokenizer = new WordTokenizer();
        var vocabulary = Vocabulary.Build(["Dream big, and work for it!"], tokenizer);
        string text = "Dream BIG, and work for it! " + new string('X', 200);
        var ids = new int[16];
        AllocationAssert.SteadyStateAllocatesNothing(() => tokenizer.Encode(text, vocabulary, ids), "WordTokenizer.Encode(span)");
    }

    [Fact]
    public void MultiHeadForward_AllocatesNothing()
    {
        var layer = MultiHeadAttention.CreateRandom(64, 4, seed: 1);
        var rng = new Random(1);
        float[] input = TestInputs.Uniform(rng, 2 * 40 * 64, 1f), output = new float[input.Length];
        AllocationAssert.SteadyStateAllocatesNothing(() => layer.Forward(input, output, 2, 40), "MultiHeadAttention.Forward");
    }

    [Theory]
    [InlineData(KvCacheStorage.Single)]
    [InlineData(KvCacheStorage.Half)]
    public void KvCacheDecodeStep_AllocatesNothing(KvCacheStorage storage)
    {
        var layer = MultiHeadAttention.CreateRandom(64, 4, seed: 2);
        var cache = new KvCache(300, layer.KvHeads, layer.HeadDim, storage: storage);
        var rng = new Random(2);
        float[] prompt = TestInputs.Uniform(rng, 200 * 64, 1f), promptOut = new float[prompt.Length];
        float[] token = TestInputs.Uniform(rng, 64, 1f), tokenOut = new float[64];
        var causal = new AttentionOptions { IsCausal = true };
        layer.Forward(prompt, promptOut, 1, 200, cache, causal);
        AllocationAssert.SteadyStateAllocatesNothing(() => layer.Forward(token, tokenOut, 1, 1, cache, causal), $"decode step, {storage} cache");
    }

    [Fact]
    public void MatrixMultiply_AllocatesNothing()
    {
        var rng = new Random(5);
        float[] a = TestInputs.Uniform(rng, 64 * 96, 1f), b = TestInputs.Uniform(rng, 96 * 80, 1f), c = new float[64 * 80];
        AllocationAssert.SteadyStateAllocatesNothing(() => MatrixMultiply.Multiply(a, 96, b, 80, default, c, 80, 64, 80, 96), "MatrixMultiply.Multiply");
    }
}
