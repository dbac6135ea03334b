using SelfAttention.Tests.Allocation;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// Calls with nothing to compute allocate nothing, however large the sizes they name: the layer's averaged-weights path
/// once rented queryLength·keyLength floats (6.4 GB for 40,000 × 40,000) with batch 0. In the allocation collection, alone.
/// </summary>
[Collection(AllocationCollection.Name)]
public class EmptyCallAllocationTests
{
    [Fact]
    public void Layer_ZeroBatchAveragedWeights_AllocatesNothing() => AllocationProcess.Run<EmptyCallAllocationTests>(nameof(Layer_ZeroBatchAveragedWeights_AllocatesNothingScenario));

    private static void Layer_ZeroBatchAveragedWeights_AllocatesNothingScenario()
    {
        var layer = MultiHeadAttention.CreateRandom(8, 2, seed: 3, kvHeads: 1);
        AllocationAssert.SteadyStateAllocatesNothing(
            () => layer.Forward([], [], [], [], AttentionWeightsMode.AverageOverHeads, 0, 40_000, 40_000), "Forward(AverageOverHeads, batch 0, 40000 × 40000)");
    }

    [Fact]
    public void Layer_ZeroKeys_AllocatesNothing() => AllocationProcess.Run<EmptyCallAllocationTests>(nameof(Layer_ZeroKeys_AllocatesNothingScenario));

    private static void Layer_ZeroKeys_AllocatesNothingScenario()
    {
        var layer = MultiHeadAttention.CreateRandom(8, 2, seed: 3, kvHeads: 1);
        float[] query = new float[4 * 8], output = new float[4 * 8];
        AllocationAssert.SteadyStateAllocatesNothing(
            () => layer.Forward(query, [], output, [], AttentionWeightsMode.AverageOverHeads, 1, 4, 0), "Forward(AverageOverHeads, keyLength 0)");
        AllocationAssert.SteadyStateAllocatesNothing(() => layer.Forward(query, [], output, 1, 4, 0), "Forward(cross, keyLength 0)");
    }

    [Fact]
    public void KvCache_NoQueryRowsOrNoKeys_AllocatesNothing() => AllocationProcess.Run<EmptyCallAllocationTests>(nameof(KvCache_NoQueryRowsOrNoKeys_AllocatesNothingScenario));

    private static void KvCache_NoQueryRowsOrNoKeys_AllocatesNothingScenario()
    {
        var cache = new KvCache(1 << 12, 2, 64, storage: KvCacheStorage.Half);
        float[] q = new float[4 * 64], o = new float[4 * 64];
        AllocationAssert.SteadyStateAllocatesNothing(() => cache.Attend(q, o, 4, 1), "Attend with no cached keys");
        cache.Append(new float[(1 << 12) * 128], new float[(1 << 12) * 128], 1 << 12);
        AllocationAssert.SteadyStateAllocatesNothing(() => cache.Attend([], [], 4, 0), "Attend with no query rows (Half, full cache)");
    }
}
