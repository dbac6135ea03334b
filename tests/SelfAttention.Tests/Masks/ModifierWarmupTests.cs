using System.Runtime;
using SelfAttention.Tests.Allocation;
using Xunit;

namespace SelfAttention.Tests.Masks;

/// <summary>
/// <see cref="AttentionWarmup.Run"/> compiles the score-modifier kernels too: in a fresh process, after the warm-up, a
/// round of softcap, ALiBi, dense-mask, sink and log-sum-exp calls at other sizes compiles next to nothing; without it
/// the same round compiles many methods (so the measure can tell). As <c>Warmup/WarmupCoverageTests</c>, whose bounds
/// these are.
/// </summary>
[Collection(AllocationCollection.Name)]
public class ModifierWarmupTests
{
    private const long MostAfterWarmup = 6;
    private const long LeastWithoutWarmup = 12;

    [Fact]
    public void AfterTheWarmUp_ModifiedCallsCompileNextToNothing() =>
        AllocationProcess.Run<ModifierWarmupTests>(nameof(CompiledByTheRound), "warm");

    [Fact]
    public void WithoutTheWarmUp_TheSameCallsCompileMany() =>
        AllocationProcess.Run<ModifierWarmupTests>(nameof(CompiledByTheRound), "cold");

    private static void CompiledByTheRound(string mode)
    {
        Round(modified: false);
        if (mode == "warm")
        {
            AttentionWarmup.Run();
        }

        long before = JitInfo.GetCompiledMethodCount(currentThread: false);
        Round(modified: true);
        long compiled = JitInfo.GetCompiledMethodCount(currentThread: false) - before;
        if (mode == "warm")
        {
            Assert.True(compiled <= MostAfterWarmup, $"after AttentionWarmup.Run, the modified round compiled {compiled} methods (at most {MostAfterWarmup} expected).");
        }
        else
        {
            Assert.True(compiled >= LeastWithoutWarmup, $"without the warm-up, the modified round compiled only {compiled} methods: the measure cannot tell (at least {LeastWithoutWarmup} expected).");
        }
    }

    // Sizes unlike the warm-up's, through Auto (tiled; decode-shaped runs row by row) and row by row.
    private static void Round(bool modified)
    {
        const int heads = 6, nq = 33, nk = 51, d = 24;
        var shape = new AttentionShape(2, nq, nk, heads, d) { KvHeads = 3 };
        var decode = new AttentionShape(2, 1, nk, heads, d) { KvHeads = 3 };
        float[] q = new float[2 * nq * heads * d], k = new float[2 * nk * 3 * d], v = new float[2 * nk * 3 * d], o = new float[2 * nq * heads * d];
        float[] dq = new float[2 * heads * d], dout = new float[2 * heads * d];
        float[] slopes = new float[heads], sinks = new float[heads], lse = new float[2 * heads * nq], additive = new float[nq * nk];
        bool[] allowed = new bool[nq * nk];
        Array.Fill(allowed, true);
        foreach (var kernel in new[] { AttentionKernel.Auto, AttentionKernel.RowByRow })
        {
            var options = new AttentionOptions { Kernel = kernel };
            var softCap = options with { SoftCap = modified ? 20f : null };
            Attention.ComputeMultiHead(q, k, v, o, shape, softCap);
            Attention.ComputeMultiHead(q, k, v, o, shape, new AttentionModifiers { AlibiSlopes = modified ? slopes : default }, options);
            Attention.ComputeMultiHead(q, k, v, o, shape, new AttentionModifiers { AdditiveMask = modified ? additive : default }, options);
            Attention.ComputeMultiHead(q, k, v, o, shape, new AttentionModifiers { BooleanMask = modified ? allowed : default }, options);
            Attention.ComputeMultiHead(q, k, v, o, shape, new AttentionModifiers { Sinks = modified ? sinks : default, LogSumExp = modified ? lse : default }, options);
        }

        Attention.ComputeMultiHead(dq, k, v, dout, decode, new AttentionOptions { SoftCap = modified ? 20f : null });
    }
}
