using CommunityToolkit.HighPerformance;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Allocation;

/// <summary>
/// The mask options allocate nothing in steady state either: per-sequence lengths (<see cref="Attention.ComputeMultiHeadPadded"/>),
/// top-left causal and a sliding window, alone and combined, in every kernel and at degrees 1 and −1, on BSNH buffers,
/// one head, and the KV cache; each in a process of its own (<see cref="AllocationProcess"/>), measured by
/// <see cref="AllocationAssert"/> after warm-up.
/// </summary>
[Collection(AllocationCollection.Name)]
public class MaskAllocationTests
{
    private const int Calls = 40;

#if DEBUG
    private const string? SkipInDebug = "Debug build: the kernels run unoptimised; the Release runs cover this matrix at every width.";
#else
    private const string? SkipInDebug = null;
#endif

    [Theory(Skip = SkipInDebug)]
    [MemberData(nameof(TestInputs.KernelData), MemberType = typeof(TestInputs))]
    public void MaskedCalls_AllocateNothing(AttentionKernel kernel) =>
        AllocationProcess.Run<MaskAllocationTests>(nameof(MaskedCallsScenario), kernel);

    private static void MaskedCallsScenario(AttentionKernel kernel)
    {
        AttentionOptions[] masks =
        [
            new() { IsCausal = true, Window = new AttentionWindow(64, 0) },
            new() { IsCausal = true, CausalAlignment = CausalAlignment.TopLeft },
            new() { Window = new AttentionWindow(3, 5), CausalAlignment = CausalAlignment.TopLeft },
        ];
        foreach (var (nq, nk, d) in new[] { (2, 2048, 64), (100, 300, 32) })
        {
            const int batch = 3, heads = 2;
            var rng = new Random(nq + nk);
            float[] q = TestInputs.Uniform(rng, batch * nq * heads * d, 1f), k = TestInputs.Uniform(rng, batch * nk * heads * d, 1f), v = TestInputs.Uniform(rng, batch * nk * heads * d, 1f);
            float[] output = new float[q.Length], weights = new float[nq * nk];
            int[] keyLengths = [nk, nk / 2 + 1, 0], queryLengths = [nq, 1, nq];
            var shape = new AttentionShape(batch, nq, nk, heads, d);
            var cache = new KvCache(nk, heads, d, batch: batch);
            cache.Append(k, v, nk);
            foreach (var mask in masks)
            {
                foreach (int degree in new[] { 1, -1 })
                {
                    var options = mask with { Kernel = kernel, MaxDegreeOfParallelism = degree };
                    for (int warmUp = 0; warmUp < 3; warmUp++)
                    {
                        Calls4(q, k, v, output, weights, shape, keyLengths, queryLengths, cache, options);
                    }

                    AllocationAssert.SteadyStateAllocatesNothing(() => Calls4(q, k, v, output, weights, shape, keyLengths, queryLengths, cache, options),
                        $"{kernel}, nq={nq} nk={nk} d={d}, causal={mask.IsCausal} {mask.CausalAlignment} window={mask.Window} degree={degree}", warmUpCalls: 0, calls: Calls);
                    Assert.True(float.IsFinite(output[0]), $"{kernel}: the measured call produced {output[0]}.");
                }
            }
        }
    }

    // The padded BSNH call, the plain one, one head with weights, and the KV cache: no lambdas or boxing inside.
    private static void Calls4(float[] q, float[] k, float[] v, float[] output, float[] weights, AttentionShape shape, int[] keyLengths, int[] queryLengths,
                               KvCache cache, AttentionOptions options)
    {
        int nq = shape.QueryLength, nk = shape.KeyLength, d = shape.HeadDim;
        Attention.ComputeMultiHeadPadded(q, k, v, output, shape, keyLengths, queryLengths, options);
        Attention.ComputeMultiHead(q, k, v, output, shape, options);
        Attention.Compute(new ReadOnlySpan2D<float>(q, 0, nq, d, 0), new ReadOnlySpan2D<float>(k, 0, nk, d, 0), new ReadOnlySpan2D<float>(v, 0, nk, d, 0),
                          new Span2D<float>(output, 0, nq, d, 0), new Span2D<float>(weights, 0, nq, nk, 0), options);
        cache.Attend(q, output, shape.Heads, nq, options);
    }
}
