using System.Globalization;
using CommunityToolkit.HighPerformance;
using SelfAttention.Kernels;
using SelfAttention.Kernels.Masks;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Masks;

/// <summary>
/// Masks with no public option yet (top-left causal, a window, a mask that is not a range, and their AND) run through
/// every kernel, each asserted to be the kernel that runs (<see cref="KernelDispatch.Resolve"/>), against
/// <see cref="MaskReference"/> on ragged shapes with fully masked rows, empty tiles and hidden non-finite values.
/// </summary>
public class MaskedKernelTests
{
    private const int Heads = 3, KvHeads = 1;

    public static TheoryData<AttentionKernel, int, int, int, int> Cases
    {
        get
        {
            var data = new TheoryData<AttentionKernel, int, int, int, int>();
            (int Nq, int Nk, int D, int Dv)[] prefill = [(1, 1, 4, 3), (5, 3, 8, 5), (37, 37, 16, 16), (70, 50, 33, 8), (50, 300, 16, 17), (129, 131, 24, 12)];
            (int Nq, int Nk, int D, int Dv)[] decode = [(1, 1, 8, 4), (1, 70, 16, 16), (3, 200, 32, 9), (4, 130, 20, 8), (2, 257, 64, 64)];
            foreach (var (nq, nk, d, dv) in prefill)
            {
                data.Add(AttentionKernel.RowByRow, nq, nk, d, dv);
                data.Add(AttentionKernel.Tiled, nq, nk, d, dv);
            }

            foreach (var (nq, nk, d, dv) in decode)
            {
                data.Add(AttentionKernel.Decode, nq, nk, d, dv);
                data.Add(AttentionKernel.RowByRow, nq, nk, d, dv);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TopLeftCausal_MatchesTheReference(AttentionKernel kernel, int nq, int nk, int d, int dv) =>
        Run(kernel, nq, nk, d, dv, CausalMask.TopLeft(nk), (i, j) => j <= i, "top-left causal");

    [Theory]
    [MemberData(nameof(Cases))]
    public void BottomRightCausal_ThroughTheMaskEntry_MatchesTheReference(AttentionKernel kernel, int nq, int nk, int d, int dv) =>
        Run(kernel, nq, nk, d, dv, CausalMask.BottomRight(nq, nk), (i, j) => j <= (long)i + nk - nq, "bottom-right causal");

    [Theory]
    [MemberData(nameof(Cases))]
    public void CausalAndWindow_MatchesTheReference(AttentionKernel kernel, int nq, int nk, int d, int dv)
    {
        // A window of 20 keys behind the diagonal: left tiles empty, diagonal tiles partial on both sides.
        var mask = new And<CausalMask, WindowTestMask>(CausalMask.BottomRight(nq, nk), new WindowTestMask(nq, nk, 19, 3));
        Run(kernel, nq, nk, d, dv, mask, (i, j) => j <= (long)i + nk - nq && WindowTestMask.Rule(nq, nk, 19, 3, i, j), "causal AND window (19, 3)");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Window_MatchesTheReference(AttentionKernel kernel, int nq, int nk, int d, int dv) =>
        Run(kernel, nq, nk, d, dv, new WindowTestMask(nq, nk, 130, 2), (i, j) => WindowTestMask.Rule(nq, nk, 130, 2, i, j), "window (130, 2)");

    [Theory]
    [MemberData(nameof(Cases))]
    public void CausalAndStripe_NotARange_MatchesTheReference(AttentionKernel kernel, int nq, int nk, int d, int dv)
    {
        var mask = new And<CausalMask, StripeTestMask>(CausalMask.TopLeft(nk), new StripeTestMask(nk));
        Run(kernel, nq, nk, d, dv, mask, (i, j) => j <= i && StripeTestMask.Rule(i, j), "top-left causal AND stripe");
    }

    [Theory]
    [InlineData(AttentionKernel.RowByRow)]
    [InlineData(AttentionKernel.Tiled)]
    [InlineData(AttentionKernel.Decode)]
    public void Window_IsBitIdenticalForEveryDegreeOfParallelism(AttentionKernel kernel)
    {
        int nq = kernel == AttentionKernel.Decode ? 3 : 90, nk = 400, d = 32;
        var shape = new AttentionShape(2, nq, nk, 4, d) { KvHeads = 2 };
        var rng = new Random(5);
        float[] q = TestInputs.Uniform(rng, 2 * nq * 4 * d, 1f), k = TestInputs.Uniform(rng, 2 * nk * 2 * d, 1f), v = TestInputs.Uniform(rng, 2 * nk * 2 * d, 1f);
        var mask = new And<CausalMask, WindowTestMask>(CausalMask.BottomRight(nq, nk), new WindowTestMask(nq, nk, 150, 0));
        float[] one = new float[q.Length], many = new float[q.Length];
        Attention.ComputeMultiHead(q, k, v, one, shape, new AttentionOptions { Kernel = kernel, MaxDegreeOfParallelism = 1 }, mask);
        Attention.ComputeMultiHead(q, k, v, many, shape, new AttentionOptions { Kernel = kernel, MaxDegreeOfParallelism = -1 }, mask);
        Oracle.AssertBitIdentical(one, many, $"{kernel} window, degree 1 against −1");
    }

    private static void Run<TMask>(AttentionKernel kernel, int nq, int nk, int d, int dv, TMask mask, Func<int, int, bool> visible, string name)
        where TMask : unmanaged, IAttentionMask<TMask>
    {
        string shape = string.Create(CultureInfo.InvariantCulture, $"{name}, {kernel}, nq={nq} nk={nk} d={d} dv={dv}");
        var rng = new Random(nq * 1000 + nk * 7 + d);
        const int batch = 2;
        float[] q = TestInputs.Uniform(rng, batch * nq * Heads * d, 1f);
        float[] k = TestInputs.Uniform(rng, batch * nk * KvHeads * d, 1f);
        float[] v = TestInputs.Uniform(rng, batch * nk * KvHeads * dv, 1f);

        // A value row hidden from some rows carries +∞: rows that see it get +∞ (as in the reference), the others must
        // not get 0·∞ = NaN through the mask.
        foreach (int row in new[] { nk / 3, nk / 2, nk - 1 })
        {
            v[(nk + row) * dv + row % dv] = float.PositiveInfinity;
        }

        var multiShape = new AttentionShape(batch, nq, nk, Heads, d) { KvHeads = KvHeads, ValueDim = dv };
        var options = new AttentionOptions { Kernel = kernel };
        Assert.Equal(ExpectedChoice(kernel), KernelResolutionTests.Resolve(multiShape, options).Kernel);
        float[] output = new float[batch * nq * Heads * dv];
        Attention.ComputeMultiHead(q, k, v, output, multiShape, options, mask);

        double scale = 1 / Math.Sqrt(d);
        for (int b = 0; b < batch; b++)
        {
            float[] kb = k.AsSpan(b * nk * d, nk * d).ToArray(), vb = v.AsSpan(b * nk * dv, nk * dv).ToArray();
            for (int h = 0; h < Heads; h++)
            {
                float[] qh = new float[nq * d];
                for (int i = 0; i < nq; i++)
                {
                    q.AsSpan((b * nq + i) * Heads * d + h * d, d).CopyTo(qh.AsSpan(i * d, d));
                }

                var (expected, _) = MaskReference.Compute(qh, kb, vb, nq, nk, d, dv, scale, visible);
                for (int i = 0; i < nq; i++)
                {
                    for (int c = 0; c < dv; c++)
                    {
                        float actual = output[(b * nq + i) * Heads * dv + h * dv + c];
                        AssertClose(expected[i * dv + c], actual, $"{shape}: batch {b} head {h} row {i} channel {c}");
                    }
                }
            }
        }

        // One head with weights: the row-by-row kernel writes them, masked entries 0.
        if (kernel == AttentionKernel.RowByRow)
        {
            float[] weights = new float[nq * nk], single = new float[nq * dv], q0 = new float[nq * d];
            for (int i = 0; i < nq; i++)
            {
                q.AsSpan(i * Heads * d, d).CopyTo(q0.AsSpan(i * d, d));
            }

            Attention.Compute(new ReadOnlySpan2D<float>(q0, nq, d), new ReadOnlySpan2D<float>(k, nk, d), new ReadOnlySpan2D<float>(v, nk, dv),
                              new Span2D<float>(single, nq, dv), new Span2D<float>(weights, nq, nk), hasWeights: true, default, mask);
            var (expected, expectedWeights) = MaskReference.Compute(q0, k.AsSpan(0, nk * d).ToArray(), v.AsSpan(0, nk * dv).ToArray(), nq, nk, d, dv, scale, visible);
            for (int x = 0; x < weights.Length; x++)
            {
                AssertClose(expectedWeights[x], weights[x], $"{shape}: weight ({x / nk}, {x % nk})");
                if (!visible(x / nk, x % nk))
                {
                    Assert.True(weights[x] == 0f, $"{shape}: hidden weight ({x / nk}, {x % nk}) = {weights[x]}");
                }
            }

            for (int x = 0; x < single.Length; x++)
            {
                AssertClose(expected[x], single[x], $"{shape}: single head with weights, row {x / dv} channel {x % dv}");
            }
        }
    }

    private static KernelChoice ExpectedChoice(AttentionKernel kernel) => kernel switch
    {
        AttentionKernel.Tiled => KernelChoice.Tiled,
        AttentionKernel.Decode => KernelChoice.Decode,
        _ => KernelChoice.RowByRow,
    };

    private static void AssertClose(double expected, float actual, string where)
    {
        if (double.IsNaN(expected) || double.IsInfinity(expected))
        {
            Assert.True(expected.Equals((double)actual), $"{where}: expected {expected}, actual {actual}");
            return;
        }

        Assert.True(Math.Abs(expected - actual) <= 2e-5 + 2e-4 * Math.Abs(expected), $"{where}: expected {expected:R}, actual {actual:R}");
    }
}
