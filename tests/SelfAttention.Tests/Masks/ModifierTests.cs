using System.Globalization;
using SelfAttention.Kernels;
using SelfAttention.Reference;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Masks;

/// <summary>
/// Score modifiers, sinks, the log-sum-exp output and dense masks (<see cref="AttentionModifiers"/>,
/// <see cref="AttentionOptions.SoftCap"/>) end to end: each feature and combinations with the masks, through every
/// kernel (asserted with <see cref="KernelDispatch.Resolve"/>: the decode kernel applies them too), on ragged sizes, against <see cref="NaiveAttention"/>, outputs and log-sum-exp alike. The suite runs at every
/// SIMD width in CI (and by hand with <c>DOTNET_EnableHWIntrinsic=0</c>, <c>DOTNET_EnableAVX512=0</c>).
/// Tolerance: <see cref="Tolerance.Magnitude1"/>; log-sum-exp values are of magnitude 1–10, compared with the same.
/// </summary>
public class ModifierTests
{
    private const int Batch = 3, Heads = 4, KvHeads = 2, HeadDim = 24, ValueDim = 8;

    private static readonly (int Nq, int Nk)[] s_sizes = [(1, 1), (3, 17), (17, 3), (63, 65), (65, 63), (127, 129), (1, 129), (3, 200)];

    /// <summary>What a feature adds to the call.</summary>
    internal sealed record Feature(AttentionOptions Options, bool Alibi = false, bool Sinks = false, bool Lse = false, bool Boolean = false,
                                   bool Additive = false, bool Lengths = false, bool PerHeadMask = false);

    private static readonly Dictionary<string, Feature> s_features = new()
    {
        ["softcap 1.5"] = new(new() { SoftCap = 1.5f, Scale = 1f }),
        ["alibi"] = new(default, Alibi: true),
        ["sinks"] = new(default, Sinks: true),
        ["lse"] = new(default, Lse: true),
        ["sinks + lse"] = new(default, Sinks: true, Lse: true),
        ["boolean (shared)"] = new(default, Boolean: true),
        ["boolean (per head) + lse"] = new(default, Boolean: true, PerHeadMask: true, Lse: true),
        ["additive (shared)"] = new(default, Additive: true),
        ["additive (per head) + sinks"] = new(default, Additive: true, PerHeadMask: true, Sinks: true),
        ["alibi + softcap + sinks + lse"] = new(new() { SoftCap = 2f, Scale = 0.5f }, Alibi: true, Sinks: true, Lse: true),
        ["causal + alibi + lse"] = new(new() { IsCausal = true }, Alibi: true, Lse: true),
        ["window (7, 3) + additive + softcap"] = new(new() { Window = new AttentionWindow(7, 3), SoftCap = 3f }, Additive: true),
        ["lengths + causal + boolean + lse"] = new(new() { IsCausal = true }, Boolean: true, Lse: true, Lengths: true),
        ["lengths + alibi + sinks + lse"] = new(default, Alibi: true, Sinks: true, Lse: true, Lengths: true),
        ["lengths + top-left causal + window (20, 0) + softcap + additive"] =
            new(new() { IsCausal = true, CausalAlignment = CausalAlignment.TopLeft, Window = new AttentionWindow(20, 0), SoftCap = 1f }, Additive: true, Lengths: true),
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

    /// <summary>The inputs of one case: BSNH buffers and every modifier buffer (used or not).</summary>
    internal sealed class Inputs
    {
        public required float[] Q, K, V, Slopes, Sinks, Additive;
        public required bool[] Boolean;
        public required AttentionShape Shape;
        public required AttentionMaskStrides Strides;
        public int[]? KeyLengths, QueryLengths;

        public int OutputLength => Shape.Batch * Shape.QueryLength * Shape.Heads * ValueDim;

        public int LseLength => Shape.Batch * Shape.Heads * Shape.QueryLength;
    }

    internal static Inputs Make(int nq, int nk, int seed, Feature feature)
    {
        var rng = new Random(seed);
        var shape = new AttentionShape(Batch, nq, nk, Heads, HeadDim) { KvHeads = KvHeads, ValueDim = ValueDim };
        var strides = feature.PerHeadMask ? AttentionMaskStrides.Broadcast(perBatch: false, Heads, nq, nk) : AttentionMaskStrides.Shared(nk);
        int maskLength = (feature.PerHeadMask ? Heads : 1) * nq * nk;
        var boolean = new bool[maskLength];
        var additive = new float[maskLength];
        for (int n = 0; n < maskLength; n++)
        {
            int i = n / nk % nq;
            boolean[n] = i % 7 != 3 && rng.NextDouble() < 0.7;        // rows i ≡ 3 (mod 7) see nothing
            additive[n] = i % 7 == 3 || rng.NextDouble() < 0.2 ? float.NegativeInfinity : (float)(rng.NextDouble() * 4 - 2);
        }

        var inputs = new Inputs
        {
            Q = TestInputs.Uniform(rng, Batch * nq * Heads * HeadDim, 1f),
            K = TestInputs.Uniform(rng, Batch * nk * KvHeads * HeadDim, 1f),
            V = TestInputs.Uniform(rng, Batch * nk * KvHeads * ValueDim, 1f),
            Slopes = [0.5f, 0.25f, 0.125f, 0.0625f],
            Sinks = [0.3f, -1f, 2.5f, 0f],
            Boolean = boolean,
            Additive = additive,
            Shape = shape,
            Strides = strides,
        };
        if (feature.Lengths)
        {
            (inputs.KeyLengths, inputs.QueryLengths) = PublicMaskTests.Lengths(nq, nk) is var (keys, queries) ? (keys[..Batch], queries[..Batch]) : default;
            for (int b = 0; b < Batch; b++)
            {
                inputs.K.AsSpan((b * nk + inputs.KeyLengths[b]) * KvHeads * HeadDim, (nk - inputs.KeyLengths[b]) * KvHeads * HeadDim).Fill(float.NaN);
                inputs.V.AsSpan((b * nk + inputs.KeyLengths[b]) * KvHeads * ValueDim, (nk - inputs.KeyLengths[b]) * KvHeads * ValueDim).Fill(float.NaN);
            }
        }

        return inputs;
    }

    internal static (float[] Output, float[] Lse) Run(Inputs inputs, Feature feature, AttentionOptions options, bool reference)
    {
        float[] output = new float[inputs.OutputLength];
        float[] lse = new float[inputs.LseLength];
        output.AsSpan().Fill(-7f);
        lse.AsSpan().Fill(-7f);
        var modifiers = new AttentionModifiers
        {
            AlibiSlopes = feature.Alibi ? inputs.Slopes : default,
            Sinks = feature.Sinks ? inputs.Sinks : default,
            LogSumExp = feature.Lse ? lse : default,
            BooleanMask = feature.Boolean ? inputs.Boolean : default,
            AdditiveMask = feature.Additive ? inputs.Additive : default,
            MaskStrides = inputs.Strides,
        };
        if (inputs.KeyLengths is null)
        {
            if (reference) NaiveAttention.ComputeMultiHead(inputs.Q, inputs.K, inputs.V, output, inputs.Shape, modifiers, options);
            else Attention.ComputeMultiHead(inputs.Q, inputs.K, inputs.V, output, inputs.Shape, modifiers, options);
        }
        else if (reference)
        {
            NaiveAttention.ComputeMultiHeadPadded(inputs.Q, inputs.K, inputs.V, output, inputs.Shape, inputs.KeyLengths, inputs.QueryLengths, modifiers, options);
        }
        else
        {
            Attention.ComputeMultiHeadPadded(inputs.Q, inputs.K, inputs.V, output, inputs.Shape, inputs.KeyLengths, inputs.QueryLengths, modifiers, options);
        }

        return (output, lse);
    }

    private static string Name(string feature, AttentionKernel kernel, int nq, int nk) =>
        string.Create(CultureInfo.InvariantCulture, $"{feature}, {kernel}, nq={nq} nk={nk} B={Batch} H={Heads} KvH={KvHeads} d={HeadDim} dv={ValueDim}, {SimdWidth.Name}");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Feature_MatchesTheReference(string name, AttentionKernel kernel, int nq, int nk)
    {
        var feature = s_features[name];
        var options = feature.Options with { Kernel = kernel };
        string context = Name(name, kernel, nq, nk);
        var inputs = Make(nq, nk, nq * 131 + nk, feature);
        AssertKernel(nq, nk, options, feature, context);

        var (expected, expectedLse) = Run(inputs, feature, options, reference: true);
        var (actual, actualLse) = Run(inputs, feature, options, reference: false);
        Oracle.AssertClose(expected, actual, Batch * nq, Heads * ValueDim, Tolerance.Magnitude1, context);
        if (feature.Lse)
        {
            Oracle.AssertClose(expectedLse, actualLse, Batch * Heads, nq, Tolerance.Magnitude1, context + ", log-sum-exp");
        }
        else
        {
            Assert.All(actualLse, x => Assert.Equal(-7f, x));
        }
    }

    /// <summary>The kernel a case runs: the one asked for (decode too, with every modifier).</summary>
    private static unsafe void AssertKernel(int nq, int nk, AttentionOptions options, Feature feature, string context)
    {
        var shape = new AttentionShape(Batch, nq, nk, Heads, HeadDim) { KvHeads = KvHeads, ValueDim = ValueDim };
        float dummy = 0;
        var problem = AttentionProblem.Create(null, Heads * HeadDim, null, KvHeads * HeadDim, null, KvHeads * ValueDim, null, Heads * ValueDim,
                                              Batch, Heads, KvHeads, nq, nk, nk, HeadDim, ValueDim, options.Scale ?? 1f / MathF.Sqrt(HeadDim), options)
            with
            {
                AlibiSlopes = feature.Alibi ? &dummy : null, Sinks = feature.Sinks ? &dummy : null, LogSumExp = feature.Lse ? &dummy : null,
                AdditiveMask = feature.Additive ? &dummy : null, BooleanMask = feature.Boolean ? (byte*)&dummy : null,
            };
        var resolution = KernelDispatch.Resolve(problem, options.Kernel);
        switch (options.Kernel)
        {
            case AttentionKernel.Tiled:
                Assert.True(resolution.Kernel == KernelChoice.Tiled, $"{context}: resolves to {resolution.Kernel} ({resolution.Fallback})");
                break;
            case AttentionKernel.RowByRow:
                Assert.True(resolution.Kernel == KernelChoice.RowByRow, $"{context}: resolves to {resolution.Kernel} ({resolution.Fallback})");
                break;
            case AttentionKernel.Decode:
                Assert.True(resolution.Kernel == KernelChoice.Decode, $"{context}: resolves to {resolution.Kernel} ({resolution.Fallback})");
                Assert.Null(resolution.Fallback);
                break;
            default:
                Assert.Null(resolution.Fallback);
                break;
        }
    }

    [Theory]
    [InlineData(AttentionKernel.RowByRow, 90)]
    [InlineData(AttentionKernel.Tiled, 90)]
    [InlineData(AttentionKernel.Auto, 129)]
    public void Modifiers_AreBitIdenticalForEveryDegreeOfParallelism(AttentionKernel kernel, int nq)
    {
        var feature = s_features["lengths + alibi + sinks + lse"] with { Additive = true, Options = new() { SoftCap = 2f, IsCausal = true, Kernel = kernel } };
        var inputs = Make(nq, 300, 17, feature);
        var (one, oneLse) = Run(inputs, feature, feature.Options with { MaxDegreeOfParallelism = 1 }, reference: false);
        var (many, manyLse) = Run(inputs, feature, feature.Options with { MaxDegreeOfParallelism = -1 }, reference: false);
        Oracle.AssertBitIdentical(one, many, $"{kernel}: modifiers, degree 1 against −1");
        Oracle.AssertBitIdentical(oneLse, manyLse, $"{kernel}: log-sum-exp, degree 1 against −1");
    }

    [Theory]
    [InlineData(AttentionKernel.RowByRow)]
    [InlineData(AttentionKernel.Tiled)]
    [InlineData(AttentionKernel.Decode)]
    public void AllTrueBooleanMask_EqualsNoMask(AttentionKernel kernel)
    {
        int nq = kernel == AttentionKernel.Decode ? 3 : 70;
        var feature = new Feature(new() { Kernel = kernel, IsCausal = true });
        var inputs = Make(nq, 150, 5, feature);
        Array.Fill(inputs.Boolean, true);
        var (plain, _) = Run(inputs, feature, feature.Options, reference: false);
        var (masked, _) = Run(inputs, feature with { Boolean = true }, feature.Options, reference: false);
        // Decode applies the boolean mask as a modifier after its overflow test: close, not bit for bit.
        if (kernel == AttentionKernel.Decode)
        {
            Oracle.AssertClose(plain, masked, Batch * nq, Heads * ValueDim, Tolerance.Magnitude1, $"{kernel}: all-true boolean mask against none");
        }
        else
        {
            Oracle.AssertBitIdentical(plain, masked, $"{kernel}: all-true boolean mask against none");
        }
    }

    [Theory]
    [InlineData(AttentionKernel.RowByRow)]
    [InlineData(AttentionKernel.Tiled)]
    [InlineData(AttentionKernel.Auto)]
    public void AdditiveMaskOfMinusInfinity_EqualsTheBooleanMask(AttentionKernel kernel)
    {
        var feature = new Feature(new() { Kernel = kernel }, Lse: true, PerHeadMask: true);
        var inputs = Make(70, 150, 9, feature);
        for (int n = 0; n < inputs.Additive.Length; n++)
        {
            inputs.Additive[n] = inputs.Boolean[n] ? 0f : float.NegativeInfinity;
        }

        var (boolean, booleanLse) = Run(inputs, feature with { Boolean = true }, feature.Options, reference: false);
        var (additive, additiveLse) = Run(inputs, feature with { Additive = true }, feature.Options, reference: false);
        Oracle.AssertBitIdentical(boolean, additive, $"{kernel}: additive −∞ against boolean");
        Oracle.AssertBitIdentical(booleanLse, additiveLse, $"{kernel}: additive −∞ against boolean, log-sum-exp");
        Assert.Contains(float.NegativeInfinity, booleanLse); // rows that see nothing
    }

    [Theory]
    [InlineData(AttentionKernel.RowByRow, 70, 150, 64)]
    [InlineData(AttentionKernel.Tiled, 70, 150, 77)]
    [InlineData(AttentionKernel.Auto, 1, 300, 128)]
    [InlineData(AttentionKernel.Tiled, 129, 257, 1)]
    public void MergingTheLogSumExpWeightedHalves_GivesTheWhole(AttentionKernel kernel, int nq, int nk, int split)
    {
        // Attention over keys [0, split) and [split, nk) separately, merged with their log-sum-exps, equals attention over
        // all keys: o = e^(l₁ − l)·o₁ + e^(l₂ − l)·o₂ with l = ln(e^l₁ + e^l₂), and l is the whole call's log-sum-exp.
        // Softcap, not ALiBi: ALiBi's distances depend on the key length, which the halves do not share.
        var feature = new Feature(new() { Kernel = kernel, SoftCap = 1.5f }, Lse: true);
        var inputs = Make(nq, nk, 21, feature);
        var (whole, wholeLse) = Run(inputs, feature, feature.Options, reference: false);
        var (first, firstLse) = Run(Keys(inputs, 0, split, nk), feature, feature.Options, reference: false);
        var (second, secondLse) = Run(Keys(inputs, split, nk - split, nk), feature, feature.Options, reference: false);
        float[] merged = new float[whole.Length], mergedLse = new float[wholeLse.Length];
        for (int b = 0; b < Batch; b++)
        {
            for (int h = 0; h < Heads; h++)
            {
                for (int i = 0; i < nq; i++)
                {
                    int row = (b * Heads + h) * nq + i;
                    double l1 = firstLse[row], l2 = secondLse[row], l = Math.Max(l1, l2) + Math.Log(Math.Exp(l1 - Math.Max(l1, l2)) + Math.Exp(l2 - Math.Max(l1, l2)));
                    mergedLse[row] = (float)l;
                    for (int c = 0; c < ValueDim; c++)
                    {
                        int at = (b * nq + i) * Heads * ValueDim + h * ValueDim + c;
                        merged[at] = (float)(Math.Exp(l1 - l) * first[at] + Math.Exp(l2 - l) * second[at]);
                    }
                }
            }
        }

        string context = string.Create(CultureInfo.InvariantCulture, $"{kernel}, nq={nq} nk={nk} split at {split}, {SimdWidth.Name}");
        Oracle.AssertClose(whole, merged, Batch * nq, Heads * ValueDim, Tolerance.Magnitude1, context);
        Oracle.AssertClose(wholeLse, mergedLse, Batch * Heads, nq, Tolerance.Magnitude1, context + ", log-sum-exp");
    }

    /// <summary>The inputs with keys and values <c>[start, start + count)</c> only (no dense mask: its strides are the whole call's).</summary>
    private static Inputs Keys(Inputs inputs, int start, int count, int nk)
    {
        float[] k = new float[Batch * count * KvHeads * HeadDim], v = new float[Batch * count * KvHeads * ValueDim];
        for (int b = 0; b < Batch; b++)
        {
            inputs.K.AsSpan((b * nk + start) * KvHeads * HeadDim, count * KvHeads * HeadDim).CopyTo(k.AsSpan(b * count * KvHeads * HeadDim));
            inputs.V.AsSpan((b * nk + start) * KvHeads * ValueDim, count * KvHeads * ValueDim).CopyTo(v.AsSpan(b * count * KvHeads * ValueDim));
        }

        return new Inputs
        {
            Q = inputs.Q, K = k, V = v, Slopes = inputs.Slopes, Sinks = inputs.Sinks, Boolean = inputs.Boolean, Additive = inputs.Additive,
            Shape = inputs.Shape with { KeyLength = count }, Strides = inputs.Strides,
        };
    }

    [Theory]
    [InlineData(AttentionKernel.RowByRow)]
    [InlineData(AttentionKernel.Auto)]
    public void SingleHead_WithWeights_MatchesTheReference(AttentionKernel kernel)
    {
        const int nq = 33, nk = 47;
        var rng = new Random(4);
        float[] q = TestInputs.Uniform(rng, nq * HeadDim, 1f), k = TestInputs.Uniform(rng, nk * HeadDim, 1f), v = TestInputs.Uniform(rng, nk * ValueDim, 1f);
        float[] additive = TestInputs.Uniform(rng, nq * nk, 2f);
        additive[5 * nk + 3] = float.NegativeInfinity;
        float[] slope = [0.3f], sink = [1.5f];
        var options = new AttentionOptions { SoftCap = 4f, Kernel = kernel };
        (float[] Output, float[] Weights, float[] Lse) RunOne(bool reference)
        {
            float[] output = new float[nq * ValueDim], weights = new float[nq * nk], lse = new float[nq];
            var modifiers = new AttentionModifiers { AlibiSlopes = slope, Sinks = sink, LogSumExp = lse, AdditiveMask = additive };
            var qv = new CommunityToolkit.HighPerformance.ReadOnlySpan2D<float>(q, nq, HeadDim);
            var kv = new CommunityToolkit.HighPerformance.ReadOnlySpan2D<float>(k, nk, HeadDim);
            var vv = new CommunityToolkit.HighPerformance.ReadOnlySpan2D<float>(v, nk, ValueDim);
            var ov = new CommunityToolkit.HighPerformance.Span2D<float>(output, nq, ValueDim);
            var wv = new CommunityToolkit.HighPerformance.Span2D<float>(weights, nq, nk);
            if (reference) NaiveAttention.Compute(qv, kv, vv, ov, wv, modifiers, options);
            else Attention.Compute(qv, kv, vv, ov, wv, modifiers, options);
            return (output, weights, lse);
        }

        var expected = RunOne(reference: true);
        var actual = RunOne(reference: false);
        Oracle.AssertClose(expected.Output, actual.Output, nq, ValueDim, Tolerance.Magnitude1, $"{kernel}: output");
        Oracle.AssertClose(expected.Weights, actual.Weights, nq, nk, Tolerance.Weights, $"{kernel}: weights");
        Oracle.AssertClose(expected.Lse, actual.Lse, 1, nq, Tolerance.Magnitude1, $"{kernel}: log-sum-exp");
        Assert.Equal(0f, actual.Weights[5 * nk + 3]);
        Assert.True(actual.Weights.AsSpan(0, nk).ToArray().Sum() < 1f, "a sink takes part of every row's weight");
    }

    [Fact]
    public void SoftCap_BoundsTheScores_AndTheReferenceMatchesItsFormula()
    {
        // Scores far beyond the cap: every one is capped near ±cap, so the weights follow cap·tanh, not the raw scores.
        const int nq = 4, nk = 6;
        float[] q = new float[nq * 1], k = new float[nk * 1], v = new float[nk * 1];
        for (int i = 0; i < nq; i++) q[i] = 100f * (i + 1);
        for (int j = 0; j < nk; j++) { k[j] = j - 2.5f; v[j] = j; }
        const float cap = 2f;
        float[] output = new float[nq];
        NaiveAttention.Compute(new(q, nq, 1), new(k, nk, 1), new(v, nk, 1), new(output, nq, 1), new AttentionOptions { SoftCap = cap, Scale = 1f });
        for (int i = 0; i < nq; i++)
        {
            double[] s = Enumerable.Range(0, nk).Select(j => cap * Math.Tanh(q[i] * k[j] / cap)).ToArray();
            double max = s.Max(), sum = s.Sum(x => Math.Exp(x - max));
            double expected = Enumerable.Range(0, nk).Sum(j => Math.Exp(s[j] - max) / sum * v[j]);
            Assert.Equal(expected, output[i], 5);
        }
    }
}
