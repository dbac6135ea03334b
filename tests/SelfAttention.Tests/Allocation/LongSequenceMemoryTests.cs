using CommunityToolkit.HighPerformance;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Allocation;

/// <summary>
/// Memory stays O(tile), never O(queryLength·keyLength): a head with 32,768 keys (d = 128) runs on a fresh thread, so the
/// kernel's one-time per-thread scratch is counted too, and everything it allocates must stay under 1 MiB (an n² score
/// matrix for 32,768 queries would be 4 GiB; one score row of 32,768 floats is 128 KiB). The full 32k × 32k head takes
/// seconds, so the queries here are one query block (or one decode step); every key block is still visited.
/// </summary>
[Collection(AllocationCollection.Name)]
public class LongSequenceMemoryTests
{
    private const int KeyLength = 32_768;
    private const int HeadDim = 128;
    private const long Limit = 1 << 20;

    [Theory]
    [InlineData(AttentionKernel.Auto, 128, false)]
    [InlineData(AttentionKernel.Tiled, 128, true)]
    [InlineData(AttentionKernel.Decode, 1, false)]
    [InlineData(AttentionKernel.RowByRow, 8, true)]
    public void LongKeySequence_AllocatesOnlyTileScratch(AttentionKernel kernel, int queryLength, bool causal)
    {
        var rng = new Random(queryLength);
        float[] q = TestInputs.Uniform(rng, queryLength * HeadDim, 1f);
        float[] k = TestInputs.Uniform(rng, KeyLength * HeadDim, 1f);
        float[] v = TestInputs.Uniform(rng, KeyLength * HeadDim, 1f);
        float[] output = new float[queryLength * HeadDim];
        var options = new AttentionOptions { Kernel = kernel, IsCausal = causal };

        long allocated = -1;
        var thread = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Attention.Compute(new ReadOnlySpan2D<float>(q, queryLength, HeadDim), new ReadOnlySpan2D<float>(k, KeyLength, HeadDim),
                              new ReadOnlySpan2D<float>(v, KeyLength, HeadDim), new Span2D<float>(output, queryLength, HeadDim), options);
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        });
        thread.Start();
        thread.Join();

        Assert.InRange(allocated, 0, Limit);
        Assert.All(output, x => Assert.True(float.IsFinite(x), $"{kernel} nq={queryLength}: non-finite output {x}"));

        // The last query row sees every key, so it must match the reference on that row.
        var expected = new float[HeadDim];
        Reference.NaiveAttention.Compute(new ReadOnlySpan2D<float>(q, (queryLength - 1) * HeadDim, 1, HeadDim, 0),
                                         new ReadOnlySpan2D<float>(k, KeyLength, HeadDim), new ReadOnlySpan2D<float>(v, KeyLength, HeadDim),
                                         new Span2D<float>(expected, 1, HeadDim), options with { IsCausal = false });
        for (int c = 0; c < HeadDim; c++)
        {
            Assert.True(Math.Abs(expected[c] - output[(queryLength - 1) * HeadDim + c]) <= 1e-5f + 1e-3f * Math.Abs(expected[c]),
                $"{kernel} nq={queryLength} causal={causal}: last row, column {c}: expected {expected[c]}, actual {output[(queryLength - 1) * HeadDim + c]}");
        }
    }
}
