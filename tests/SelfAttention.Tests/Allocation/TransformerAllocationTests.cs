using SelfAttention.Tests.Helpers;
using SelfAttention.Transformers;
using Xunit;

namespace SelfAttention.Tests.Allocation;

/// <summary>
/// Steady-state calls of the transformer blocks allocate nothing on any thread, each measured in a process of its own
/// (see <see cref="AllocationAssert"/>, <see cref="AllocationProcess"/>), in the allocation collection like the others.
/// </summary>
[Collection(AllocationCollection.Name)]
public class TransformerAllocationTests
{
    [Fact]
    public void Activations_AllocateNothing() =>
        AllocationProcess.Run<TransformerAllocationTests>(nameof(ActivationsScenario));

    private static void ActivationsScenario()
    {
        foreach (int n in new[] { 3, 384, 1537 })
        {
            float[] x = TestInputs.Uniform(new Random(n), n, 5f), y = new float[n];
            AllocationAssert.SteadyStateAllocatesNothing(() => Activations.Gelu(x, y), $"Gelu n {n}");
            AllocationAssert.SteadyStateAllocatesNothing(() => Activations.GeluTanh(x, x), $"GeluTanh in place n {n}");
            AllocationAssert.SteadyStateAllocatesNothing(() => Activations.Silu(x, y), $"Silu n {n}");
            AllocationAssert.SteadyStateAllocatesNothing(() => Activations.Erf(x, y), $"Erf n {n}");
        }
    }

    [Fact]
    public void Norms_AllocateNothing() =>
        AllocationProcess.Run<TransformerAllocationTests>(nameof(NormsScenario));

    private static void NormsScenario()
    {
        foreach (int width in new[] { 3, 384, 1000 })
        {
            float[] x = TestInputs.Uniform(new Random(width), 4 * width, 5f), r = TestInputs.Uniform(new Random(1), 4 * width, 1f);
            float[] gamma = TestInputs.Between(new Random(2), width, 0.5f, 2f), beta = new float[width], y = new float[4 * width];
            AllocationAssert.SteadyStateAllocatesNothing(() => Norms.LayerNorm(x, r, gamma, beta, y, 1e-12f), $"LayerNorm width {width}");
            AllocationAssert.SteadyStateAllocatesNothing(() => Norms.LayerNorm(y, [], gamma, [], y), $"LayerNorm in place width {width}");
            AllocationAssert.SteadyStateAllocatesNothing(() => Norms.RmsNorm(x, r, gamma, y), $"RmsNorm width {width}");
        }
    }

    [Fact]
    public void LinearForward_AllocatesNothing() =>
        AllocationProcess.Run<TransformerAllocationTests>(nameof(LinearForwardScenario));

    private static void LinearForwardScenario()
    {
        var layer = new Linear(TestInputs.Uniform(new Random(4), 384 * 1536, 0.05f), new float[1536], 384, 1536, activation: LinearActivation.Gelu);
        foreach (int rows in new[] { 1, 16, 128 })
        {
            float[] x = TestInputs.Uniform(new Random(rows), rows * 384, 1f), y = new float[rows * 1536];
            AllocationAssert.SteadyStateAllocatesNothing(() => layer.Forward(x, y), $"Linear 384→1536 GELU, {rows} rows");
            AllocationAssert.SteadyStateAllocatesNothing(() => layer.Forward(x, y, 2), $"Linear 384→1536 GELU, {rows} rows, two threads");
        }
    }

    [Fact]
    public void EncoderLayerForward_AllocatesNothing() =>
        AllocationProcess.Run<TransformerAllocationTests>(nameof(EncoderLayerForwardScenario));

    private static void EncoderLayerForwardScenario()
    {
        foreach (NormPlacement placement in Enum.GetValues<NormPlacement>())
        {
            var layer = new EncoderLayer(EncoderLayerWeights.CreateRandom(384, 1536, 7), new EncoderLayerOptions { Heads = 12, Placement = placement });
            float[] x = TestInputs.Uniform(new Random(1), 2 * 16 * 384, 1f), y = new float[x.Length];
            AllocationAssert.SteadyStateAllocatesNothing(() => layer.Forward(x, y, 2, 16), $"EncoderLayer {placement}, 2 × 16 tokens");
            AllocationAssert.SteadyStateAllocatesNothing(() => layer.Forward(x, y, 2, 16, 2), $"EncoderLayer {placement}, 2 × 16 tokens, two threads");
        }
    }

    [Fact]
    public void PackedEncoderAndSentenceEmbedder_AllocateNothing() =>
        AllocationProcess.Run<TransformerAllocationTests>(nameof(PackedEncoderAndSentenceEmbedderScenario));

    // The real all-MiniLM-L6-v2, tokenizer included: a batch of sentences of different lengths, packed.
    private static void PackedEncoderAndSentenceEmbedderScenario()
    {
        SentenceEmbedder embedder = SentenceEmbedder.Load(Transformers.MiniLm.MiniLmModel.Folder);
        // Few calls per window (a window still fails at one byte per call): at the scalar width one pass takes a while.
        string[] sentences = ["Hello world!", "A man plays a guitar.", "", "x y z"];
        var embeddings = new float[sentences.Length * embedder.Dimension];
        AllocationAssert.SteadyStateAllocatesNothing(() => embedder.Embed(sentences, embeddings), "SentenceEmbedder, 4 sentences of 2–8 tokens", calls: 10);
        AllocationAssert.SteadyStateAllocatesNothing(() => embedder.Embed(sentences, embeddings, 2), "SentenceEmbedder, 4 sentences, two threads", calls: 10);
        int[] ids = [101, 7592, 2088, 999, 102, 101, 2023, 102];
        var hidden = new float[ids.Length * embedder.Dimension];
        AllocationAssert.SteadyStateAllocatesNothing(() => embedder.Encoder.Forward(ids, [], [0, 5, 8], hidden), "TransformerEncoder, packed 5 + 3 tokens", calls: 10);
    }
}
