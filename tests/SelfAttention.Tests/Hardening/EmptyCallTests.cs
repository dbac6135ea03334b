using CommunityToolkit.HighPerformance;
using SelfAttention.Reference;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Hardening;

/// <summary>
/// Empty calls are valid everywhere: zero keys give zero outputs (and an empty weights matrix), zero query rows or a
/// zero batch write nothing, for every kernel, in the fast and the reference path alike; pitch gaps stay untouched.
/// </summary>
public class EmptyCallTests
{
    public static TheoryData<AttentionKernel, int, bool> ZeroKeyCases()
    {
        var data = new TheoryData<AttentionKernel, int, bool>();
        foreach (var kernel in TestInputs.Kernels)
        {
            foreach (int nq in new[] { 1, 3, 70 })
            {
                data.Add(kernel, nq, false);
                data.Add(kernel, nq, true);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ZeroKeyCases))]
    public void SingleHead_ZeroKeys_GivesZeros(AttentionKernel kernel, int nq, bool causal)
    {
        const int d = 8, dv = 5;
        var rng = new Random(nq);
        var query = GuardedMatrix.Input(nq, d, TestInputs.Uniform(rng, nq * d, 1f), rng, pitched: true);
        var options = new AttentionOptions { Kernel = kernel, IsCausal = causal };
        string context = $"{kernel} nq={nq} causal={causal}, zero keys";

        // A [0, d] key view keeps its width with CommunityToolkit 8; `Empty` reports [0, 0]. Both mean "no keys".
        for (int form = 0; form < 2; form++)
        {
            var key = form == 0 ? new ReadOnlySpan2D<float>(new float[d], 0, 0, d, 0) : ReadOnlySpan2D<float>.Empty;
            var value = form == 0 ? new ReadOnlySpan2D<float>(new float[dv], 0, 0, dv, 0) : ReadOnlySpan2D<float>.Empty;
            var output = GuardedMatrix.Output(nq, dv, rng, pitched: true);
            output.FillView(7f);
            Attention.Compute(query.ReadOnlyView, key, value, output.View, options);
            AssertZeros(output, context);

            var reference = GuardedMatrix.Output(nq, dv, rng, pitched: true);
            reference.FillView(7f);
            NaiveAttention.Compute(query.ReadOnlyView, key, value, reference.View, options);
            AssertZeros(reference, context + " (reference)");

            var withWeights = GuardedMatrix.Output(nq, dv, rng, pitched: true);
            withWeights.FillView(7f);
            var weights = new float[nq, 0];
            Attention.Compute(query.ReadOnlyView, key, value, withWeights.View, weights.AsSpan2D(), options);
            AssertZeros(withWeights, context + " (with weights)");
        }
    }

    [Theory]
    [MemberData(nameof(TestInputs.KernelData), MemberType = typeof(TestInputs))]
    public void SingleHead_ZeroQueryRows_WritesNothing(AttentionKernel kernel)
    {
        var rng = new Random(3);
        var key = GuardedMatrix.Input(9, 4, TestInputs.Uniform(rng, 36, 1f), rng, pitched: false);
        var value = GuardedMatrix.Input(9, 3, TestInputs.Uniform(rng, 27, 1f), rng, pitched: false);
        var output = new GuardedMatrix(0, 3, trail: 5);
        var weights = new GuardedMatrix(0, 9, trail: 11);
        for (int form = 0; form < 2; form++)
        {
            var query = form == 0 ? new ReadOnlySpan2D<float>(new float[4], 0, 0, 4, 0) : ReadOnlySpan2D<float>.Empty;
            Attention.Compute(query, key.ReadOnlyView, value.ReadOnlyView, output.View, new AttentionOptions { Kernel = kernel });
            Attention.Compute(query, key.ReadOnlyView, value.ReadOnlyView, output.View, weights.View, new AttentionOptions { Kernel = kernel });
            NaiveAttention.Compute(query, key.ReadOnlyView, value.ReadOnlyView, output.View, weights.View, new AttentionOptions { Kernel = kernel });
        }

        output.AssertGuardsIntact($"{kernel}, zero query rows");
        weights.AssertGuardsIntact($"{kernel}, zero query rows (weights)");
    }

    [Theory]
    [MemberData(nameof(TestInputs.KernelData), MemberType = typeof(TestInputs))]
    public void MultiHead_ZeroKeys_GivesZeros(AttentionKernel kernel)
    {
        var shape = new AttentionShape(Batch: 2, QueryLength: 67, KeyLength: 0, Heads: 4, HeadDim: 8) { KvHeads = 2, ValueDim = 3 };
        var query = TestInputs.Uniform(new Random(1), 2 * 67 * 4 * 8, 1f);
        var output = new float[2 * 67 * 4 * 3];
        foreach (bool causal in new[] { false, true })
        {
            Array.Fill(output, 7f);
            Attention.ComputeMultiHead(query, [], [], output, shape, new AttentionOptions { Kernel = kernel, IsCausal = causal, MaxDegreeOfParallelism = 2 });
            Assert.True(output.All(x => x == 0f), $"{kernel} causal={causal}: zero keys must give zeros.");
            Array.Fill(output, 7f);
            NaiveAttention.ComputeMultiHead(query, [], [], output, shape, new AttentionOptions { IsCausal = causal });
            Assert.True(output.All(x => x == 0f), $"reference causal={causal}: zero keys must give zeros.");
        }
    }

    /// <summary>
    /// No query rows with many heads and a long key: returns without touching anything (it used to walk every key
    /// block of every head for nothing). The keys here are NaN, so any work on them would show in no output anyway; the
    /// point is that the call is valid and writes nothing. Zero batch likewise.
    /// </summary>
    [Theory]
    [MemberData(nameof(TestInputs.KernelData), MemberType = typeof(TestInputs))]
    public void MultiHead_ZeroQueryRowsOrBatch_IsValidAndWritesNothing(AttentionKernel kernel)
    {
        var shape = new AttentionShape(Batch: 1, QueryLength: 0, KeyLength: 20_000, Heads: 64, HeadDim: 2);
        var keys = new float[20_000 * 64 * 2];
        Array.Fill(keys, float.NaN);
        Attention.ComputeMultiHead([], keys, keys, [], shape, new AttentionOptions { Kernel = kernel, MaxDegreeOfParallelism = -1 });
        NaiveAttention.ComputeMultiHead([], keys, keys, [], shape);
        Attention.ComputeMultiHead([], [], [], [], shape with { Batch = 0, QueryLength = 5 }, new AttentionOptions { Kernel = kernel });
    }

    private static void AssertZeros(GuardedMatrix output, string context)
    {
        output.AssertGuardsIntact(context);
        for (int i = 0; i < output.Height; i++)
        {
            for (int c = 0; c < output.Width; c++)
            {
                Assert.True(output[i, c] == 0f, $"{context}: output[{i}, {c}] = {output[i, c]}, expected 0.");
            }
        }
    }
}
