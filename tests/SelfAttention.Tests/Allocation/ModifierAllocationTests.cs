using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Allocation;

/// <summary>
/// Score modifiers, sinks, log-sum-exp, dense masks and packed sequences allocate nothing in steady state: on BSNH
/// buffers (tiled and decode shapes, a padded batch with its weights), packed sequences, a <see cref="KvCache"/> step and a
/// <see cref="MultiHeadAttention"/> forward, at degrees 1 and 2, each in a process of its own.
/// </summary>
[Collection(AllocationCollection.Name)]
public class ModifierAllocationTests
{
    [Fact]
    public void ModifiedCalls_AllocateNothing() =>
        AllocationProcess.Run<ModifierAllocationTests>(nameof(ModifiedCallsScenario));

    private static void ModifiedCallsScenario()
    {
        const int heads = 4, d = 16, nq = 33, nk = 40;
        var rng = new Random(5);
        var shape = new AttentionShape(2, nq, nk, heads, d) { KvHeads = 2 };
        float[] q = TestInputs.Uniform(rng, 2 * nq * heads * d, 1f), k = TestInputs.Uniform(rng, 2 * nk * 2 * d, 1f), v = TestInputs.Uniform(rng, 2 * nk * 2 * d, 1f);
        float[] o = new float[q.Length], weights = new float[2 * heads * nq * nk], lse = new float[2 * heads * nq], slopes = [0.5f, 0.25f, 0.125f, 0.0625f], sinks = [0.1f, -0.2f, 0.3f, 0f];
        float[] additive = TestInputs.Uniform(rng, nq * nk, 2f);
        bool[] boolean = [.. additive.Select(x => x > -1.5f)];
        var softcap = new AttentionOptions { SoftCap = 20f, IsCausal = true };
        foreach (int degree in new[] { 1, 2 })
        {
            AttentionOptions options = softcap with { MaxDegreeOfParallelism = degree };
            AllocationAssert.SteadyStateAllocatesNothing(() => Attention.ComputeMultiHead(q, k, v, o, shape,
                new AttentionModifiers { AlibiSlopes = slopes, Sinks = sinks, LogSumExp = lse, AdditiveMask = additive }, options), $"ALiBi + sinks + LSE + additive, degree {degree}");
            AllocationAssert.SteadyStateAllocatesNothing(() => Attention.ComputeMultiHeadPadded(q, k, v, o, shape, [40, 17], [33, 9],
                new AttentionModifiers { BooleanMask = boolean, LogSumExp = lse }, options), $"padded + boolean + LSE, degree {degree}");
            AllocationAssert.SteadyStateAllocatesNothing(() => Attention.ComputeMultiHeadPacked(q.AsSpan(0, 50 * heads * d), k.AsSpan(0, 60 * 2 * d), v.AsSpan(0, 60 * 2 * d),
                o.AsSpan(0, 50 * heads * d), shape, [0, 33, 50], [0, 40, 60], options), $"packed, degree {degree}");
            AllocationAssert.SteadyStateAllocatesNothing(() => Attention.ComputeMultiHeadPacked(q.AsSpan(0, 50 * heads * d), k.AsSpan(0, 60 * 2 * d), v.AsSpan(0, 60 * 2 * d),
                o.AsSpan(0, 50 * heads * d), shape, [0, 33, 50], [0, 40, 60],
                new AttentionModifiers { AlibiSlopes = slopes, Sinks = sinks, LogSumExp = lse.AsSpan(0, heads * 50), AdditiveMask = additive }, options), $"packed + ALiBi + sinks + LSE + additive, degree {degree}");
            AllocationAssert.SteadyStateAllocatesNothing(() => Attention.ComputeMultiHeadPadded(q, k, v, o, weights, shape, [40, 17], [33, 9],
                new AttentionModifiers { Sinks = sinks, LogSumExp = lse }, options), $"padded + weights + sinks + LSE, degree {degree}");
            // Packed weights: Heads·(33·40 + 17·20) floats.
            AllocationAssert.SteadyStateAllocatesNothing(() => Attention.ComputeMultiHeadPacked(q.AsSpan(0, 50 * heads * d), k.AsSpan(0, 60 * 2 * d), v.AsSpan(0, 60 * 2 * d),
                o.AsSpan(0, 50 * heads * d), weights.AsSpan(0, heads * (33 * 40 + 17 * 20)), shape, [0, 33, 50], [0, 40, 60],
                new AttentionModifiers { Sinks = sinks, LogSumExp = lse.AsSpan(0, heads * 50) }, options), $"packed + weights + sinks + LSE, degree {degree}");
        }

        var cache = new KvCache(64, 2, d, batch: 2, storage: KvCacheStorage.Half);
        cache.Append(k.AsSpan(0, 2 * 20 * 2 * d), v.AsSpan(0, 2 * 20 * 2 * d), 20);
        float[] step = new float[2 * heads * d], stepOut = new float[step.Length], stepLse = new float[2 * heads];
        AllocationAssert.SteadyStateAllocatesNothing(() => cache.Attend(step, stepOut, heads, 1,
            new AttentionModifiers { AlibiSlopes = slopes, Sinks = sinks, LogSumExp = stepLse }, softcap), "KvCache step, Half, ALiBi + sinks + LSE");

        // User-defined modifiers: one holding an array (document ids), one a bias table, one an exact range; the cache too.
        int[] documents = [.. Enumerable.Range(0, nq).Select(t => t / 10)];
        float[] bias = TestInputs.Uniform(rng, heads * 13, 1f);
        var square = new AttentionShape(2, nq, nq, heads, d) { KvHeads = 2 };
        foreach (int degree in new[] { 1, 2 })
        {
            var options = new AttentionOptions { MaxDegreeOfParallelism = degree };
            AllocationAssert.SteadyStateAllocatesNothing(() => Attention.ComputeMultiHead(q, k.AsSpan(0, 2 * nq * 2 * d), v.AsSpan(0, 2 * nq * 2 * d), o, square,
                new Masks.UserModifiers.Documents(documents, causal: true), default, options), $"user document mask, degree {degree}");
            AllocationAssert.SteadyStateAllocatesNothing(() => Attention.ComputeMultiHead(q, k, v, o, shape,
                new Masks.UserModifiers.RelativeBias(bias, 6, nk - nq), new AttentionModifiers { LogSumExp = lse }, options with { IsCausal = true }), $"user relative bias + LSE, degree {degree}");
            AllocationAssert.SteadyStateAllocatesNothing(() => Attention.ComputeMultiHeadPadded(q, k, v, o, shape, [40, 17], [33, 9],
                new Masks.UserModifiers.RangeCausal(7), default, options), $"user exact range, padded, degree {degree}");
            AllocationAssert.SteadyStateAllocatesNothing(() => Attention.ComputeMultiHeadPacked(q.AsSpan(0, 50 * heads * d), k.AsSpan(0, 60 * 2 * d), v.AsSpan(0, 60 * 2 * d),
                o.AsSpan(0, 50 * heads * d), shape, [0, 33, 50], [0, 40, 60], new Masks.UserModifiers.Both(), new AttentionModifiers { LogSumExp = lse.AsSpan(0, heads * 50) }, options),
                $"user modifier + LSE, packed, degree {degree}");
        }

        AllocationAssert.SteadyStateAllocatesNothing(() => cache.Attend(step, stepOut, heads, 1, new Masks.UserModifiers.Both(), default), "KvCache step, Half, user modifier");

        var layer = MultiHeadAttention.CreateRandom(heads * d, heads, 3, kvHeads: 2);
        float[] x = TestInputs.Uniform(rng, 2 * 9 * heads * d, 1f), y = new float[x.Length], layerLse = new float[2 * heads * 9];
        AllocationAssert.SteadyStateAllocatesNothing(() => layer.Forward(x, y, 2, 9,
            new AttentionModifiers { AlibiSlopes = slopes, LogSumExp = layerLse }, softcap), "MultiHeadAttention.Forward, ALiBi + LSE");
    }
}
