using SelfAttention.Tests.Allocation;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Decode;

/// <summary>
/// A decode step allocates nothing in steady state at every storage: GQA, one to eight query rows, sequences of
/// different lengths, degrees 1 and −1; in a process of its own (<see cref="AllocationProcess"/>), measured by
/// <see cref="AllocationAssert"/> after warm-up.
/// </summary>
[Collection(AllocationCollection.Name)]
public class DecodeAllocationTests
{
#if DEBUG
    private const string? SkipInDebug = "Debug build: the kernels run unoptimised; the Release runs cover this at every width.";
#else
    private const string? SkipInDebug = null;
#endif

    [Theory(Skip = SkipInDebug)]
    [InlineData(KvCacheStorage.Single)]
    [InlineData(KvCacheStorage.Half)]
    [InlineData(KvCacheStorage.BFloat16)]
    [InlineData(KvCacheStorage.Int8)]
    public void DecodeSteps_AllocateNothing(KvCacheStorage storage) =>
        AllocationProcess.Run<DecodeAllocationTests>(nameof(DecodeScenario), storage);

    private static void DecodeScenario(KvCacheStorage storage)
    {
        const int heads = 8, kvHeads = 2, headDim = 64, batch = 3, keyWidth = kvHeads * headDim;
        var rng = new Random(1);
        var cache = new KvCache(600, kvHeads, headDim, batch: batch, storage: storage);
        int[] lengths = [100, 513, 7];
        for (int b = 0; b < batch; b++)
        {
            float[] k = TestInputs.Uniform(rng, lengths[b] * keyWidth, 1f);
            cache.Append(b, k, k, lengths[b]);
        }

        foreach (int nq in new[] { 1, 4, 8 })
        {
            float[] query = TestInputs.Uniform(rng, batch * nq * heads * headDim, 1f), output = new float[query.Length];
            foreach (int degree in new[] { 1, -1 })
            {
                var options = new AttentionOptions { IsCausal = true, MaxDegreeOfParallelism = degree };
                for (int warmUp = 0; warmUp < 3; warmUp++)
                {
                    cache.Attend(query, output, heads, nq, options);
                }

                AllocationAssert.SteadyStateAllocatesNothing(() => cache.Attend(query, output, heads, nq, options),
                    $"{storage} nq={nq} degree={degree}", warmUpCalls: 0, calls: 40);
                Assert.True(float.IsFinite(output[0]), $"{storage}: the measured call produced {output[0]}.");
            }
        }
    }
}
