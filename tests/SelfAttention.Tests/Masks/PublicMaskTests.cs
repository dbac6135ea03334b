using System.Globalization;
using CommunityToolkit.HighPerformance;
using SelfAttention.Kernels;
using SelfAttention.Reference;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Masks;

/// <summary>
/// The public mask options end to end: <see cref="AttentionOptions.CausalAlignment"/>, <see cref="AttentionOptions.Window"/>
/// and per-sequence lengths (<see cref="Attention.ComputeMultiHeadPadded"/>), alone and combined, through every kernel
/// (each asserted with <see cref="KernelDispatch.Resolve"/>), on ragged sizes, against <see cref="NaiveAttention"/>.
/// Tolerance: <see cref="Tolerance.Magnitude1"/> (abs 2e-5 + rel 2e-4, the differential tests' output tolerance for inputs
/// of magnitude 1 at the default scale). Padded key and value rows hold NaN, so any read of them that reached the output
/// would show; padded query rows must be exactly +0.
/// </summary>
public class PublicMaskTests
{
    private const int Batch = 4, Heads = 4, KvHeads = 2, HeadDim = 24, ValueDim = 8;

    private static readonly (int Nq, int Nk)[] s_sizes = [(1, 1), (3, 17), (17, 3), (63, 65), (65, 63), (127, 129), (129, 127), (1, 129), (3, 65)];

    /// <summary>The features: options, and whether the call has per-sequence lengths.</summary>
    private static readonly Dictionary<string, (AttentionOptions Options, bool Lengths)> s_features = new()
    {
        ["top-left causal"] = (new() { IsCausal = true, CausalAlignment = CausalAlignment.TopLeft }, false),
        ["window (5, 2)"] = (new() { Window = new AttentionWindow(5, 2) }, false),
        ["window (0, 0)"] = (new() { Window = new AttentionWindow(0, 0) }, false),
        ["window (-1, 4)"] = (new() { Window = new AttentionWindow(-1, 4) }, false),
        ["window (9, -1)"] = (new() { Window = new AttentionWindow(9, -1) }, false),
        ["causal + window (16, 0)"] = (new() { IsCausal = true, Window = new AttentionWindow(16, 0) }, false),
        ["top-left causal + window (7, 3)"] = (new() { IsCausal = true, CausalAlignment = CausalAlignment.TopLeft, Window = new AttentionWindow(7, 3) }, false),
        ["top-left window (2, 70)"] = (new() { CausalAlignment = CausalAlignment.TopLeft, Window = new AttentionWindow(2, 70) }, false),
        ["lengths"] = (default, true),
        ["lengths + causal"] = (new() { IsCausal = true }, true),
        ["lengths + top-left causal"] = (new() { IsCausal = true, CausalAlignment = CausalAlignment.TopLeft }, true),
        ["lengths + causal + window (20, 0)"] = (new() { IsCausal = true, Window = new AttentionWindow(20, 0) }, true),
        ["lengths + top-left causal + window (3, 5)"] = (new() { IsCausal = true, CausalAlignment = CausalAlignment.TopLeft, Window = new AttentionWindow(3, 5) }, true),
        ["lengths + window (-1, 1)"] = (new() { Window = new AttentionWindow(-1, 1) }, true),
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
                    foreach (var kernel in new[] { AttentionKernel.Auto, AttentionKernel.RowByRow, AttentionKernel.Tiled, AttentionKernel.Decode })
                    {
                        if (kernel != AttentionKernel.Decode || nq <= DecodeAttention.MaxQueryLength)
                        {
                            data.Add(feature, kernel, nq, nk);
                        }
                    }
                }
            }

            return data;
        }
    }

    /// <summary>Per-sequence lengths covering full, zero and ragged: (key, query) per sequence.</summary>
    internal static (int[] Keys, int[] Queries) Lengths(int nq, int nk) =>
        ([nk, 0, Math.Min(nk, nk * 2 / 3 + 1), nk], [nq, nq, (nq + 1) / 2, 0]);

    private sealed record Inputs(float[] Q, float[] K, float[] V, AttentionShape Shape);

    private static Inputs Make(int nq, int nk, int seed, int[]? keyLengths, int heads = Heads, int kvHeads = KvHeads, int batch = Batch)
    {
        var rng = new Random(seed);
        var shape = new AttentionShape(batch, nq, nk, heads, HeadDim) { KvHeads = kvHeads, ValueDim = ValueDim };
        float[] q = TestInputs.Uniform(rng, batch * nq * heads * HeadDim, 1f);
        float[] k = TestInputs.Uniform(rng, batch * nk * kvHeads * HeadDim, 1f);
        float[] v = TestInputs.Uniform(rng, batch * nk * kvHeads * ValueDim, 1f);
        if (keyLengths != null)
        {
            for (int b = 0; b < batch; b++)
            {
                // Padding is garbage: NaN in every padded key and value row.
                k.AsSpan((b * nk + keyLengths[b]) * kvHeads * HeadDim, (nk - keyLengths[b]) * kvHeads * HeadDim).Fill(float.NaN);
                v.AsSpan((b * nk + keyLengths[b]) * kvHeads * ValueDim, (nk - keyLengths[b]) * kvHeads * ValueDim).Fill(float.NaN);
            }
        }

        return new Inputs(q, k, v, shape);
    }

    private static string Name(string feature, AttentionKernel kernel, int nq, int nk) =>
        string.Create(CultureInfo.InvariantCulture, $"{feature}, {kernel}, nq={nq} nk={nk} B={Batch} H={Heads} KvH={KvHeads} d={HeadDim} dv={ValueDim}");

    private static float[] Run(Inputs inputs, AttentionOptions options, int[]? keyLengths, int[]? queryLengths, bool reference)
    {
        float[] output = new float[inputs.Shape.Batch * inputs.Shape.QueryLength * inputs.Shape.Heads * ValueDim];
        output.AsSpan().Fill(-7f); // every element must be written
        if (keyLengths is null)
        {
            if (reference) NaiveAttention.ComputeMultiHead(inputs.Q, inputs.K, inputs.V, output, inputs.Shape, options);
            else Attention.ComputeMultiHead(inputs.Q, inputs.K, inputs.V, output, inputs.Shape, options);
        }
        else if (reference)
        {
            NaiveAttention.ComputeMultiHeadPadded(inputs.Q, inputs.K, inputs.V, output, inputs.Shape, keyLengths, queryLengths, options);
        }
        else
        {
            Attention.ComputeMultiHeadPadded(inputs.Q, inputs.K, inputs.V, output, inputs.Shape, keyLengths, queryLengths, options);
        }

        return output;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Feature_MatchesTheReference(string feature, AttentionKernel kernel, int nq, int nk)
    {
        var (baseOptions, hasLengths) = s_features[feature];
        var options = baseOptions with { Kernel = kernel };
        string name = Name(feature, kernel, nq, nk);
        var (keyLengths, queryLengths) = hasLengths ? Lengths(nq, nk) : (null, null);
        var inputs = Make(nq, nk, nq * 131 + nk, keyLengths);
        AssertKernel(inputs.Shape, options, name);

        float[] expected = Run(inputs, options, keyLengths, queryLengths, reference: true);
        float[] actual = Run(inputs, options, keyLengths, queryLengths, reference: false);
        Oracle.AssertClose(expected, actual, Batch * nq, Heads * ValueDim, Tolerance.Magnitude1, name);
        if (queryLengths != null)
        {
            AssertPaddedRowsZero(actual, queryLengths, nq, name);
        }
    }

    [Theory]
    [InlineData("top-left causal")]
    [InlineData("causal + window (16, 0)")]
    [InlineData("top-left causal + window (7, 3)")]
    [InlineData("lengths + causal + window (20, 0)")]
    [InlineData("lengths + top-left causal + window (3, 5)")]
    public void TheReference_MatchesTheRuleWrittenApart(string feature)
    {
        // The oracle's own rule against MaskReference with the rule as a lambda, one head at a time.
        var (options, hasLengths) = s_features[feature];
        const int nq = 40, nk = 70;
        var (keyLengths, queryLengths) = hasLengths ? Lengths(nq, nk) : ([nk, nk, nk, nk], [nq, nq, nq, nq]);
        var inputs = Make(nq, nk, 3, hasLengths ? keyLengths : null, heads: 1, kvHeads: 1);
        float[] output = Run(inputs, options, hasLengths ? keyLengths : null, hasLengths ? queryLengths : null, reference: true);
        var window = options.Window ?? AttentionWindow.None;
        for (int b = 0; b < Batch; b++)
        {
            int ql = queryLengths[b], kl = keyLengths[b];
            long offset = options.CausalAlignment == CausalAlignment.TopLeft ? 0 : kl - ql;
            bool Visible(int i, int j) => i < ql && j < kl && (!options.IsCausal || j <= i + offset)
                                          && (window.Left < 0 || j >= i + offset - window.Left) && (window.Right < 0 || j <= i + offset + window.Right);
            var (expected, _) = MaskReference.Compute(inputs.Q.AsSpan(b * nq * HeadDim, nq * HeadDim).ToArray(), inputs.K.AsSpan(b * nk * HeadDim, nk * HeadDim).ToArray(),
                                                      inputs.V.AsSpan(b * nk * ValueDim, nk * ValueDim).ToArray(), nq, nk, HeadDim, ValueDim, 1 / Math.Sqrt(HeadDim), Visible);
            Oracle.AssertClose(expected.Select(x => (float)x).ToArray(), output.AsSpan(b * nq * ValueDim, nq * ValueDim), nq, ValueDim, Tolerance.Magnitude1, $"{feature}: sequence {b}");
        }
    }

    [Theory]
    [InlineData(AttentionKernel.RowByRow, 90)]
    [InlineData(AttentionKernel.Tiled, 90)]
    [InlineData(AttentionKernel.Decode, 3)]
    [InlineData(AttentionKernel.Auto, 129)]
    public void LengthsCausalWindow_IsBitIdenticalForEveryDegreeOfParallelism(AttentionKernel kernel, int nq)
    {
        const int nk = 300;
        var (keyLengths, queryLengths) = Lengths(nq, nk);
        var inputs = Make(nq, nk, 17, keyLengths);
        var options = new AttentionOptions { IsCausal = true, Window = new AttentionWindow(100, 0), Kernel = kernel };
        float[] one = Run(inputs, options with { MaxDegreeOfParallelism = 1 }, keyLengths, queryLengths, reference: false);
        float[] many = Run(inputs, options with { MaxDegreeOfParallelism = -1 }, keyLengths, queryLengths, reference: false);
        Oracle.AssertBitIdentical(one, many, $"{kernel}: lengths + causal + window, degree 1 against −1");
        float[] window = Run(inputs, new AttentionOptions { Window = new AttentionWindow(5, 5), Kernel = kernel, MaxDegreeOfParallelism = 1 }, null, null, reference: false);
        float[] windowMany = Run(inputs, new AttentionOptions { Window = new AttentionWindow(5, 5), Kernel = kernel, MaxDegreeOfParallelism = -1 }, null, null, reference: false);
        Oracle.AssertBitIdentical(window, windowMany, $"{kernel}: window (5, 5), degree 1 against −1");
    }

    public static TheoryData<AttentionKernel, bool, int, int> PaddedCases => new()
    {
        { AttentionKernel.RowByRow, false, 65, 127 },
        { AttentionKernel.Tiled, false, 65, 127 },
        { AttentionKernel.Tiled, true, 129, 63 },
        { AttentionKernel.Tiled, true, 17, 17 },
        { AttentionKernel.Decode, true, 3, 129 },
        { AttentionKernel.Auto, true, 1, 65 },
    };

    [Theory]
    [MemberData(nameof(PaddedCases))]
    public void PaddedBatch_EqualsEachSequenceRunAlone(AttentionKernel kernel, bool causal, int nq, int nk)
    {
        var (keyLengths, queryLengths) = Lengths(nq, nk);
        var inputs = Make(nq, nk, 29, keyLengths);
        var options = new AttentionOptions { IsCausal = causal, Kernel = kernel };
        float[] padded = Run(inputs, options, keyLengths, queryLengths, reference: false);
        string name = string.Create(CultureInfo.InvariantCulture, $"{kernel} causal={causal} nq={nq} nk={nk}");
        AssertPaddedRowsZero(padded, queryLengths, nq, name);
        for (int b = 0; b < Batch; b++)
        {
            int ql = queryLengths[b], kl = keyLengths[b];
            var alone = new AttentionShape(1, ql, kl, Heads, HeadDim) { KvHeads = KvHeads, ValueDim = ValueDim };
            float[] output = new float[ql * Heads * ValueDim];
            Attention.ComputeMultiHead(inputs.Q.AsSpan(b * nq * Heads * HeadDim, ql * Heads * HeadDim), inputs.K.AsSpan(b * nk * KvHeads * HeadDim, kl * KvHeads * HeadDim),
                                       inputs.V.AsSpan(b * nk * KvHeads * ValueDim, kl * KvHeads * ValueDim), output, alone, options);
            Oracle.AssertClose(output, padded.AsSpan(b * nq * Heads * ValueDim, ql * Heads * ValueDim), ql, Heads * ValueDim, Tolerance.Magnitude1,
                               $"{name}: sequence {b} (key length {kl}, query length {ql}) alone against padded");
        }
    }

    [Theory]
    [InlineData(AttentionKernel.Tiled, 1)]
    [InlineData(AttentionKernel.Tiled, -1)]
    [InlineData(AttentionKernel.RowByRow, -1)]
    public void PaddedRows_AreZeroInEveryHead(AttentionKernel kernel, int degree)
    {
        // The tiled kernel's head-0 items clear a sequence's padded rows for all heads at once and the other heads'
        // items skip them: twelve heads, whole work items of padding (300 rows, lengths 0 and 17), every degree.
        const int nq = 300, nk = 300, heads = 12, kvHeads = 4;
        int[] keyLengths = [300, 5, 17, 200], queryLengths = [300, 0, 17, 129];
        var inputs = Make(nq, nk, 41, keyLengths, heads: heads, kvHeads: kvHeads);
        var options = new AttentionOptions { IsCausal = true, Kernel = kernel, MaxDegreeOfParallelism = degree };
        AssertKernel(inputs.Shape, options, $"{kernel} padded, 12 heads");
        float[] expected = Run(inputs, options, keyLengths, queryLengths, reference: true);
        float[] actual = Run(inputs, options, keyLengths, queryLengths, reference: false);
        string name = string.Create(CultureInfo.InvariantCulture, $"{kernel}, degree {degree}, 12 heads, padded");
        Oracle.AssertClose(expected, actual, Batch * nq, heads * ValueDim, Tolerance.Magnitude1, name);
        for (int b = 0; b < Batch; b++)
        {
            for (int i = queryLengths[b]; i < nq; i++)
            {
                foreach (float x in actual.AsSpan((b * nq + i) * heads * ValueDim, heads * ValueDim))
                {
                    Assert.True(BitConverter.SingleToInt32Bits(x) == 0, $"{name}: padded query row {i} of sequence {b} holds {x}, expected +0");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(KernelsAndCausal))]
    public void UnboundedWindow_EqualsNoWindow(AttentionKernel kernel, bool causal)
    {
        int nq = kernel == AttentionKernel.Decode ? 2 : 70;
        var inputs = Make(nq, 150, 31, null);
        var options = new AttentionOptions { IsCausal = causal, Kernel = kernel };
        Oracle.AssertBitIdentical(Run(inputs, options, null, null, false), Run(inputs, options with { Window = AttentionWindow.None }, null, null, false), $"{kernel}: (−1, −1) against none");
    }

    [Theory]
    [MemberData(nameof(KernelsAndCausal))]
    public void TopLeft_EqualsBottomRight_WhenTheLengthsAreEqual(AttentionKernel kernel, bool windowed)
    {
        int n = kernel == AttentionKernel.Decode ? 3 : 129;
        var inputs = Make(n, n, 37, null);
        var options = new AttentionOptions { IsCausal = true, Kernel = kernel, Window = windowed ? new AttentionWindow(10, 0) : null };
        Oracle.AssertBitIdentical(Run(inputs, options, null, null, false), Run(inputs, options with { CausalAlignment = CausalAlignment.TopLeft }, null, null, false),
                                  $"{kernel} window={windowed}: top-left against bottom-right at nq = nk");
    }

    [Theory]
    [MemberData(nameof(KernelsAndCausal))]
    public void FullLengths_EqualNoLengths(AttentionKernel kernel, bool causal)
    {
        int nq = kernel == AttentionKernel.Decode ? 4 : 65;
        const int nk = 130;
        var inputs = Make(nq, nk, 41, null);
        var options = new AttentionOptions { IsCausal = causal, Kernel = kernel };
        float[] full = Run(inputs, options, [nk, nk, nk, nk], [], reference: false);
        Oracle.AssertClose(Run(inputs, options, null, null, false), full, Batch * nq, Heads * ValueDim, Tolerance.Magnitude1, $"{kernel} causal={causal}: full lengths");
        Oracle.AssertBitIdentical(full, Run(inputs, options, [nk, nk, nk, nk], [nq, nq, nq, nq], reference: false), $"{kernel}: empty query lengths mean full");
    }

    public static TheoryData<AttentionKernel, bool> KernelsAndCausal
    {
        get
        {
            var data = new TheoryData<AttentionKernel, bool>();
            foreach (var kernel in new[] { AttentionKernel.RowByRow, AttentionKernel.Tiled, AttentionKernel.Decode })
            {
                data.Add(kernel, false);
                data.Add(kernel, true);
            }

            return data;
        }
    }

    [Theory]
    [InlineData(AttentionKernel.RowByRow, 17, 63, true)]
    [InlineData(AttentionKernel.RowByRow, 63, 17, true)]
    [InlineData(AttentionKernel.Tiled, 65, 127, false)]
    [InlineData(AttentionKernel.Tiled, 129, 65, false)]
    [InlineData(AttentionKernel.Decode, 3, 127, false)]
    public void SingleHead_AlignmentAndWindow_MatchTheReference(AttentionKernel kernel, int nq, int nk, bool weights)
    {
        var rng = new Random(nq + nk);
        float[] q = TestInputs.Uniform(rng, nq * HeadDim, 1f), k = TestInputs.Uniform(rng, nk * HeadDim, 1f), v = TestInputs.Uniform(rng, nk * ValueDim, 1f);
        var query = new ReadOnlySpan2D<float>(q, nq, HeadDim);
        var key = new ReadOnlySpan2D<float>(k, nk, HeadDim);
        var value = new ReadOnlySpan2D<float>(v, nk, ValueDim);
        foreach (var alignment in new[] { CausalAlignment.BottomRight, CausalAlignment.TopLeft })
        {
            foreach (AttentionWindow? window in new AttentionWindow?[] { null, new AttentionWindow(6, 1), new AttentionWindow(-1, 0) })
            {
                var options = new AttentionOptions { IsCausal = true, CausalAlignment = alignment, Window = window, Kernel = kernel };
                string name = $"{kernel} {alignment} window={window} nq={nq} nk={nk}";
                float[] expected = new float[nq * ValueDim], actual = new float[nq * ValueDim], expectedWeights = new float[nq * nk], actualWeights = new float[nq * nk];
                if (weights)
                {
                    NaiveAttention.Compute(query, key, value, new Span2D<float>(expected, nq, ValueDim), new Span2D<float>(expectedWeights, nq, nk), options);
                    Attention.Compute(query, key, value, new Span2D<float>(actual, nq, ValueDim), new Span2D<float>(actualWeights, nq, nk), options);
                    Oracle.AssertClose(expectedWeights, actualWeights, nq, nk, Tolerance.Weights, name + " weights");
                }
                else
                {
                    Assert.Equal(kernel.ToString(), KernelResolutionTests.Resolve(new AttentionShape(1, nq, nk, 1, HeadDim) { ValueDim = ValueDim }, options).Kernel.ToString());
                    NaiveAttention.Compute(query, key, value, new Span2D<float>(expected, nq, ValueDim), options);
                    Attention.Compute(query, key, value, new Span2D<float>(actual, nq, ValueDim), options);
                }

                Oracle.AssertClose(expected, actual, nq, ValueDim, Tolerance.Magnitude1, name);
            }
        }
    }

    [Theory]
    [InlineData(1, KvCacheStorage.Single)]
    [InlineData(3, KvCacheStorage.Single)]
    [InlineData(1, KvCacheStorage.Half)]
    [InlineData(17, KvCacheStorage.Single)]
    public void KvCache_WindowAndAlignment_MatchTheReference(int queryLength, KvCacheStorage storage)
    {
        const int cached = 200, batch = 2;
        var rng = new Random(queryLength);
        float[] k = TestInputs.Uniform(rng, batch * cached * KvHeads * HeadDim, 1f), v = TestInputs.Uniform(rng, batch * cached * KvHeads * ValueDim, 1f);
        if (storage == KvCacheStorage.Half)
        {
            // Values Half represents exactly, so the reference on the floats is the cache's own problem.
            for (int x = 0; x < k.Length; x++) k[x] = (float)(Half)k[x];
            for (int x = 0; x < v.Length; x++) v[x] = (float)(Half)v[x];
        }

        var cache = new KvCache(256, KvHeads, HeadDim, ValueDim, batch, storage);
        cache.Append(k, v, cached);
        float[] q = TestInputs.Uniform(rng, batch * queryLength * Heads * HeadDim, 1f);
        var shape = new AttentionShape(batch, queryLength, cached, Heads, HeadDim) { KvHeads = KvHeads, ValueDim = ValueDim };
        foreach (var options in new AttentionOptions[]
                 {
                     new() { IsCausal = true, Window = new AttentionWindow(31, 0) },
                     new() { Window = new AttentionWindow(8, 8) },
                     new() { IsCausal = true, CausalAlignment = CausalAlignment.TopLeft, Window = new AttentionWindow(4, -1) },
                 })
        {
            float[] expected = new float[batch * queryLength * Heads * ValueDim], actual = new float[expected.Length];
            NaiveAttention.ComputeMultiHead(q, k, v, expected, shape, options);
            cache.Attend(q, actual, Heads, queryLength, options);
            Oracle.AssertClose(expected, actual, batch * queryLength, Heads * ValueDim, Tolerance.Magnitude1, $"KV cache {storage} nq={queryLength} {options.Window} {options.CausalAlignment}");
        }
    }

    private static void AssertKernel(AttentionShape shape, AttentionOptions options, string name)
    {
        var resolution = KernelResolutionTests.Resolve(shape, options);
        var expected = options.Kernel switch
        {
            AttentionKernel.Tiled => KernelChoice.Tiled,
            AttentionKernel.Decode => KernelChoice.Decode,
            AttentionKernel.RowByRow => KernelChoice.RowByRow,
            _ => resolution.Kernel,
        };
        Assert.True(resolution.Kernel == expected && resolution.Fallback == null, $"{name}: resolves to {resolution.Kernel} ({resolution.Fallback})");
    }

    private static void AssertPaddedRowsZero(float[] output, int[] queryLengths, int nq, string name)
    {
        for (int b = 0; b < queryLengths.Length; b++)
        {
            for (int i = queryLengths[b]; i < nq; i++)
            {
                foreach (float x in output.AsSpan((b * nq + i) * Heads * ValueDim, Heads * ValueDim))
                {
                    Assert.True(BitConverter.SingleToInt32Bits(x) == 0, $"{name}: padded query row {i} of sequence {b} holds {x}, expected +0");
                }
            }
        }
    }
}
