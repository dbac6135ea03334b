using System.Runtime;
using SelfAttention.Tests.Allocation;
using Xunit;

namespace SelfAttention.Tests.Warmup;

/// <summary>
/// <see cref="AttentionWarmup.Run"/> compiles the masked kernels too: in a fresh process, after the warm-up, a round of
/// windowed, padded and causal calls at other sizes compiles next to nothing; without the warm-up the same round
/// compiles dozens of methods (which shows the measure can see the difference). Counts come from
/// <see cref="System.Runtime.JitInfo.GetCompiledMethodCount"/>, process-wide; each scenario first runs the round's own
/// code once on a problem that takes no masked path, so the round's caller is compiled before counting.
/// </summary>
[Collection(AllocationCollection.Name)]
public class WarmupCoverageTests
{
    // The round's compilations that the library cannot warm: generic instantiations at the caller's call sites are
    // shared, so in practice a handful at most (a lambda, a span helper).
    private const long MostAfterWarmup = 6;
    private const long LeastWithoutWarmup = 12;

    [Fact]
    public void AfterTheWarmUp_MaskedCallsCompileNextToNothing() =>
        AllocationProcess.Run<WarmupCoverageTests>(nameof(CompiledByTheRound), "warm");

    [Fact]
    public void WithoutTheWarmUp_TheSameCallsCompileMany() =>
        AllocationProcess.Run<WarmupCoverageTests>(nameof(CompiledByTheRound), "cold");

    private static void CompiledByTheRound(string mode)
    {
        // The round's own code, compiled on an unmasked problem first.
        Round(masked: false);
        if (mode == "warm")
        {
            AttentionWarmup.Run();
        }

        long before = JitInfo.GetCompiledMethodCount(currentThread: false);
        Round(masked: true);
        long compiled = JitInfo.GetCompiledMethodCount(currentThread: false) - before;
        if (mode == "warm")
        {
            Assert.True(compiled <= MostAfterWarmup, $"after AttentionWarmup.Run, the masked round compiled {compiled} methods (at most {MostAfterWarmup} expected).");
        }
        else
        {
            Assert.True(compiled >= LeastWithoutWarmup, $"without the warm-up, the masked round compiled only {compiled} methods: the measure cannot tell (at least {LeastWithoutWarmup} expected).");
        }
    }

    // Sizes unlike the warm-up's: windows, causal, top-left, per-sequence lengths, through Auto (tiled and decode) and row by row.
    private static void Round(bool masked)
    {
        var shape = new AttentionShape(2, 33, 51, 6, 24) { KvHeads = 3 };
        var decode = new AttentionShape(2, 1, 51, 6, 24) { KvHeads = 3 };
        float[] q = new float[2 * 33 * 6 * 24], k = new float[2 * 51 * 3 * 24], v = new float[2 * 51 * 3 * 24], o = new float[2 * 33 * 6 * 24];
        float[] dq = new float[2 * 6 * 24], dout = new float[2 * 6 * 24];
        int[] keyLengths = [40, 51], queryLengths = [33, 20], decodeLengths = [51, 7];
        var window = new AttentionOptions { Window = new AttentionWindow(9, 2) };
        AttentionOptions[] all = masked
            ? [window, window with { IsCausal = true }, window with { Kernel = AttentionKernel.RowByRow }, new() { IsCausal = true, CausalAlignment = CausalAlignment.TopLeft }]
            : [default, default, new() { Kernel = AttentionKernel.RowByRow }, default];
        foreach (AttentionOptions options in all)
        {
            Attention.ComputeMultiHead(q, k, v, o, shape, options);
            Attention.ComputeMultiHead(dq, k, v, dout, decode, options with { Kernel = AttentionKernel.Auto });
            if (masked)
            {
                Attention.ComputeMultiHeadPadded(q, k, v, o, shape, keyLengths, queryLengths, options);
                Attention.ComputeMultiHeadPadded(dq, k, v, dout, decode, decodeLengths, [], options with { Kernel = AttentionKernel.Auto });
            }
            else
            {
                Attention.ComputeMultiHeadPadded(q, k, v, o, shape, [51, 51], [], options);
                Attention.ComputeMultiHeadPadded(dq, k, v, dout, decode, [51, 51], [], options);
            }
        }
    }
}
