using System.Globalization;
using SelfAttention.Kernels;
using SelfAttention.Kernels.Masks;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Masks;

/// <summary>
/// The tiled kernel's tile-order copy of a shared dense mask (<see cref="TransposedMask"/>): which calls make it, what
/// it holds, and that a call through it is bit for bit the call that reads the same mask in place (the same mask
/// materialised per sequence and head, which is never copied): the same float additions in the same order, so no
/// tolerance. Ragged sizes, −∞ rows, large magnitudes, with causal, window, lengths and softcap; every width in CI.
/// </summary>
public unsafe class TransposedMaskTests
{
    private const int Batch = 2, Heads = 3, HeadDim = 20, ValueDim = 12;

    private static readonly (int Nq, int Nk)[] s_sizes = [(1, 1), (3, 17), (17, 3), (63, 65), (65, 63), (127, 129), (129, 1000)];

    private static readonly Dictionary<string, (bool Boolean, AttentionOptions Options, bool Lengths)> s_features = new()
    {
        ["additive"] = (false, default, false),
        ["boolean"] = (true, default, false),
        ["additive + causal + lengths"] = (false, new() { IsCausal = true }, true),
        ["boolean + window (20, 5) + softcap"] = (true, new() { Window = new AttentionWindow(20, 5), SoftCap = 2f }, false),
    };

    public static TheoryData<string, AttentionKernel, int, int> Cases
    {
        get
        {
            var data = new TheoryData<string, AttentionKernel, int, int>();
            foreach (string feature in s_features.Keys)
            {
                foreach (var (nq, nk) in s_sizes)
                {
                    data.Add(feature, AttentionKernel.Tiled, nq, nk);
                    data.Add(feature, AttentionKernel.Auto, nq, nk);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SharedMask_EqualsTheSameMaskReadInPlace_BitForBit(string name, AttentionKernel kernel, int nq, int nk)
    {
        var (boolean, options, lengths) = s_features[name];
        options = options with { Kernel = kernel };
        string context = string.Create(CultureInfo.InvariantCulture, $"{name}, {kernel}, nq={nq} nk={nk}, {SimdWidth.Name}");
        var rng = new Random(nq * 7919 + nk);
        var shape = new AttentionShape(Batch, nq, nk, Heads, HeadDim) { ValueDim = ValueDim };
        float[] q = TestInputs.Uniform(rng, Batch * nq * Heads * HeadDim, 3f);
        float[] k = TestInputs.Uniform(rng, Batch * nk * Heads * HeadDim, 3f);
        float[] v = TestInputs.Uniform(rng, Batch * nk * Heads * ValueDim, 1e6f);
        var additive = new float[nq * nk];
        var allowed = new bool[nq * nk];
        for (int n = 0; n < additive.Length; n++)
        {
            int i = n / nk;
            allowed[n] = i % 5 != 2 && rng.NextDouble() < 0.6;      // rows i ≡ 2 (mod 5) see nothing
            additive[n] = i % 5 == 2 || rng.NextDouble() < 0.2 ? float.NegativeInfinity : (float)(rng.NextDouble() * 60 - 30);
        }

        // The same mask for every (batch, head), written out: distinct matrices, which no call copies.
        float[] additiveEach = [.. Enumerable.Range(0, Batch * Heads).SelectMany(_ => additive)];
        bool[] allowedEach = [.. Enumerable.Range(0, Batch * Heads).SelectMany(_ => allowed)];
        int[] keyLengths = [Math.Max(0, nk - 5), nk], queryLengths = [nq, Math.Max(1, nq / 2)];

        float[] Run(bool shared)
        {
            var modifiers = new AttentionModifiers
            {
                AdditiveMask = boolean ? default : shared ? additive : additiveEach,
                BooleanMask = boolean ? shared ? allowed : allowedEach : default,
                MaskStrides = shared ? AttentionMaskStrides.Shared(nk) : AttentionMaskStrides.Broadcast(perBatch: true, Heads, nq, nk),
            };
            float[] output = new float[Batch * nq * Heads * ValueDim];
            if (lengths)
            {
                Attention.ComputeMultiHeadPadded(q, k, v, output, shape, keyLengths, queryLengths, modifiers, options);
            }
            else
            {
                Attention.ComputeMultiHead(q, k, v, output, shape, modifiers, options);
            }

            return output;
        }

        float[] copied = Run(shared: true), inPlace = Run(shared: false);
        for (int n = 0; n < copied.Length; n++)
        {
            if (BitConverter.SingleToInt32Bits(copied[n]) != BitConverter.SingleToInt32Bits(inPlace[n]))
            {
                Assert.Fail($"{context}: element {n} is {copied[n]:R} through the copy, {inPlace[n]:R} read in place");
            }
        }
    }

    [Fact]
    public void Prepare_CopiesASharedMask_ForTheTiledKernelOnly()
    {
        bool vectors = KernelDispatch.Resolve(Problem(null, 65, 70, AttentionMaskStrides.Shared(70)), AttentionKernel.Tiled).VectorBits > 32;
        float[] mask = new float[1100 * 1100];
        fixed (float* m = mask)
        {
            Assert.Equal(vectors, Prepare(Problem(m, 65, 70, AttentionMaskStrides.Shared(70)), AttentionKernel.Tiled));
            Assert.Equal(vectors, Prepare(Problem(m, 65, 70, AttentionMaskStrides.Broadcast(perBatch: true, 1, 65, 70)), AttentionKernel.Tiled));
            Assert.Equal(vectors, Prepare(Problem(m, 65, 70, AttentionMaskStrides.Broadcast(perBatch: false, Heads, 65, 70)), AttentionKernel.Tiled));

            // Every (batch, head) its own matrix: the copy would be read once, as the mask is.
            Assert.False(Prepare(Problem(m, 65, 70, AttentionMaskStrides.Broadcast(perBatch: true, Heads, 65, 70)), AttentionKernel.Tiled));

            // Kernels that read rows of scores, not transposed tiles.
            Assert.False(Prepare(Problem(m, 65, 70, AttentionMaskStrides.Shared(70)), AttentionKernel.RowByRow));
            Assert.False(Prepare(Problem(m, 4, 300, AttentionMaskStrides.Shared(300)), AttentionKernel.Decode));

            // Past the copy's budget: 1,100 rows padded to whole blocks × 1,100 keys is more than 2²⁰ floats.
            Assert.False(Prepare(Problem(m, 1100, 1100, AttentionMaskStrides.Shared(1100)), AttentionKernel.Tiled));
        }
    }

    [Fact]
    public void Copy_HoldsEachElementAtItsTilePlace_AndZerosPastTheLastRow()
    {
        const int nq = 65, nk = 70;
        float[] mask = new float[nq * nk];
        for (int n = 0; n < mask.Length; n++)
        {
            mask[n] = n + 1;
        }

        fixed (float* m = mask)
        {
            var problem = Problem(m, nq, nk, AttentionMaskStrides.Shared(nk));
            TileOrderCopy prepared = TransposedMask.Prepare(problem, AttentionKernel.Tiled);
            float* copy = prepared.Start;
            var layout = prepared.Layout;
            if (copy == null)
            {
                Assert.Equal(32, KernelDispatch.Resolve(problem, AttentionKernel.Tiled).VectorBits);
                return;
            }

            int bq = layout.BlockRows, blocks = (nq + bq - 1) / bq;
            Assert.Equal(nk, layout.Keys);
            Assert.Equal(0, layout.BatchStride);
            Assert.Equal(0, layout.HeadStride);
            for (int i = 0; i < blocks * bq; i++)
            {
                for (int j = 0; j < nk; j++)
                {
                    float expected = i < nq ? mask[i * nk + j] : 0f;
                    Assert.Equal(expected, copy[(i / bq) * bq * nk + j * bq + i % bq]);
                }
            }
        }
    }

    private static bool Prepare(in AttentionProblem problem, AttentionKernel kernel) => TransposedMask.Prepare(problem, kernel).IsPresent;

    private static AttentionProblem Problem(float* mask, int nq, int nk, AttentionMaskStrides strides)
    {
        var options = new AttentionOptions();
        return AttentionProblem.Create(null, Heads * HeadDim, null, Heads * HeadDim, null, Heads * ValueDim, null, Heads * ValueDim,
                                       Batch, Heads, Heads, nq, nk, nk, HeadDim, ValueDim, 1f / MathF.Sqrt(HeadDim), options)
            with
            {
                AdditiveMask = mask,
                DenseMask = new DenseMaskLayout((nint)strides.Batch, (nint)strides.Head, (nint)strides.Query, (nint)strides.Key),
            };
    }
}
