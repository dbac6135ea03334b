using CommunityToolkit.HighPerformance;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Allocation;

/// <summary>Runs alone, so no other test's allocations or thread-pool work interleave with the measurements.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationCollection
{
    public const string Name = "Allocation";
}

/// <summary>
/// A steady-state call allocates nothing on the calling thread: after warm-up calls (which may size the per-thread
/// scratch once), <see cref="GC.GetAllocatedBytesForCurrentThread"/> does not move across a call, for every entry point,
/// kernel, mask, normalisation and degree of parallelism, up to 4096 keys.
/// </summary>
[Collection(AllocationCollection.Name)]
public class AllocationTests
{
    public enum EntryPoint { Compute, ComputeWithWeights, ComputeMultiHead }

    private static readonly (int QueryLength, int KeyLength, int HeadDim)[] s_shapes = [(2, 4096, 64), (1, 4096, 128), (64, 512, 64), (3, 3, 4), (100, 70, 80)];

    public static TheoryData<AttentionKernel, EntryPoint> Cases
    {
        get
        {
            var data = new TheoryData<AttentionKernel, EntryPoint>();
            foreach (var kernel in TestInputs.Kernels)
            {
                foreach (var entry in Enum.GetValues<EntryPoint>())
                {
                    data.Add(kernel, entry);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SteadyStateCall_AllocatesNothing(AttentionKernel kernel, EntryPoint entry)
    {
        foreach (var (nq, nk, d) in s_shapes)
        {
            var rng = new Random(nq + nk + d);
            const int heads = 2;
            float[] q = TestInputs.Uniform(rng, nq * d * heads, 1f), k = TestInputs.Uniform(rng, nk * d * heads, 1f), v = TestInputs.Uniform(rng, nk * d * heads, 1f);
            float[] output = new float[nq * d * heads], weights = new float[nq * nk];
            foreach (bool causal in new[] { false, true })
            {
                foreach (var normalization in new[] { AttentionNormalization.Softmax, AttentionNormalization.Sum })
                {
                    foreach (int degree in new[] { 1, -1 })
                    {
                        var options = new AttentionOptions { IsCausal = causal, Normalization = normalization, Kernel = kernel, MaxDegreeOfParallelism = degree };
                        var serial = options with { MaxDegreeOfParallelism = 1 };
                        for (int warmUp = 0; warmUp < 3; warmUp++)
                        {
                            Call(entry, q, k, v, output, weights, nq, nk, d, heads, serial);
                            Call(entry, q, k, v, output, weights, nq, nk, d, heads, options);
                        }

                        // One-off runtime charges are voted out by the helper; see AllocationAssert.
                        AllocationAssert.SteadyStateAllocatesNothing(() => Call(entry, q, k, v, output, weights, nq, nk, d, heads, options),
                            $"{entry}, {kernel}, nq={nq} nk={nk} d={d} causal={causal} norm={normalization} degree={degree}", warmUpCalls: 0);
                        Assert.True(float.IsFinite(output[0]), $"{entry}, {kernel}: the measured call produced {output[0]}.");
                    }
                }
            }
        }
    }

    /// <summary>The measurement itself works: the reference, which allocates a scratch row per call by design, is seen allocating.</summary>
    [Fact]
    public void Measurement_SeesTheReferenceAllocate()
    {
        float[] x = TestInputs.Uniform(new Random(1), 8 * 4, 1f), output = new float[8 * 4];
        var view = new ReadOnlySpan2D<float>(x, 8, 4);
        Reference.NaiveAttention.Compute(view, view, view, new Span2D<float>(output, 8, 4));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Reference.NaiveAttention.Compute(view, view, view, new Span2D<float>(output, 8, 4));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before >= 8 * sizeof(double), "the reference's scratch row of 8 doubles was not measured.");
    }

    // One call, no lambdas or boxing: the spans and options are stack values.
    private static void Call(EntryPoint entry, float[] q, float[] k, float[] v, float[] output, float[] weights, int nq, int nk, int d, int heads, AttentionOptions options)
    {
        switch (entry)
        {
            case EntryPoint.Compute:
                Attention.Compute(new ReadOnlySpan2D<float>(q, 0, nq, d, 0), new ReadOnlySpan2D<float>(k, 0, nk, d, 0), new ReadOnlySpan2D<float>(v, 0, nk, d, 0),
                                  new Span2D<float>(output, 0, nq, d, 0), options);
                break;
            case EntryPoint.ComputeWithWeights:
                Attention.Compute(new ReadOnlySpan2D<float>(q, 0, nq, d, 0), new ReadOnlySpan2D<float>(k, 0, nk, d, 0), new ReadOnlySpan2D<float>(v, 0, nk, d, 0),
                                  new Span2D<float>(output, 0, nq, d, 0), new Span2D<float>(weights, 0, nq, nk, 0), options);
                break;
            default:
                Attention.ComputeMultiHead(q, k, v, output, new AttentionShape(1, nq, nk, heads, d) { KvHeads = heads }, options);
                break;
        }
    }
}
