using System.Globalization;
using CommunityToolkit.HighPerformance;
using SelfAttention.Reference;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Differential;

/// <summary>
/// The multi-head weights entry point (<c>[Batch, Heads, QueryLength, KeyLength]</c>) against <see cref="NaiveAttention"/>
/// on ragged sizes, with grouped-query heads, causal and window masks and the modifiers (ALiBi, sinks, log-sum-exp, a
/// per-head boolean mask), and against the single-head weights overload run head by head, bit for bit, at degrees 1
/// and 2; and the padded overloads (per-sequence lengths) against the reference. Tolerance: <see cref="Tolerance.Magnitude1"/>
/// for outputs, <see cref="Tolerance.Weights"/> for weights.
/// </summary>
public class MultiHeadWeightsTests
{
    private const int Batch = 2, Heads = 4, KvHeads = 2, HeadDim = 16, ValueDim = 8;

    public static TheoryData<int, int, string> Cases
    {
        get
        {
            var data = new TheoryData<int, int, string>();
            foreach (var (nq, nk) in new[] { (1, 1), (3, 17), (17, 3), (63, 65), (65, 63), (127, 129) })
            {
                foreach (string feature in new[] { "none", "causal", "window (5, 2)", "alibi + sinks + lse", "boolean (per head)" })
                {
                    data.Add(nq, nk, feature);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Weights_MatchTheReference_AndTheSingleHeadOverload(int nq, int nk, string feature)
    {
        var rng = new Random(nq * 17 + nk + feature.Length);
        var shape = new AttentionShape(Batch, nq, nk, Heads, HeadDim) { KvHeads = KvHeads, ValueDim = ValueDim };
        float[] q = TestInputs.Uniform(rng, Batch * nq * Heads * HeadDim, 1f), k = TestInputs.Uniform(rng, Batch * nk * KvHeads * HeadDim, 1f);
        float[] v = TestInputs.Uniform(rng, Batch * nk * KvHeads * ValueDim, 1f);
        bool[] mask = [.. Enumerable.Range(0, Heads * nq * nk).Select(n => (n * 7919 % 13) != 0)];
        float[] slopes = [0.5f, 0.25f, 0.125f, 0.0625f], sinks = [0.3f, -1f, 2.5f, 0f];
        var options = feature switch
        {
            "causal" => new AttentionOptions { IsCausal = true },
            "window (5, 2)" => new AttentionOptions { Window = new AttentionWindow(5, 2) },
            _ => default,
        };
        int outputLength = Batch * nq * Heads * ValueDim, weightsLength = Batch * Heads * nq * nk, lseLength = Batch * Heads * nq;
        AttentionModifiers Modifiers(float[] lse) => feature switch
        {
            "alibi + sinks + lse" => new AttentionModifiers { AlibiSlopes = slopes, Sinks = sinks, LogSumExp = lse },
            "boolean (per head)" => new AttentionModifiers { BooleanMask = mask, MaskStrides = AttentionMaskStrides.Broadcast(false, Heads, nq, nk) },
            _ => default,
        };

        string context = string.Create(CultureInfo.InvariantCulture, $"{feature}, nq={nq} nk={nk}, {SimdWidth.Name}");
        float[] expected = new float[outputLength], expectedWeights = new float[weightsLength], expectedLse = new float[lseLength];
        NaiveAttention.ComputeMultiHead(q, k, v, expected, expectedWeights, shape, Modifiers(expectedLse), options);
        float[]? first = null, firstWeights = null;
        foreach (int degree in new[] { 1, 2 })
        {
            float[] actual = new float[outputLength], weights = new float[weightsLength], lse = new float[lseLength];
            weights.AsSpan().Fill(-7f);
            Attention.ComputeMultiHead(q, k, v, actual, weights, shape, Modifiers(lse), options with { MaxDegreeOfParallelism = degree });
            Oracle.AssertClose(expected, actual, Batch * nq, Heads * ValueDim, Tolerance.Magnitude1, context);
            Oracle.AssertClose(expectedWeights, weights, Batch * Heads * nq, nk, Tolerance.Weights, context + ", weights");
            if (feature.Contains("lse", StringComparison.Ordinal))
            {
                Oracle.AssertClose(expectedLse, lse, Batch * Heads, nq, Tolerance.Magnitude1, context + ", log-sum-exp");
            }

            if (first is null)
            {
                (first, firstWeights) = (actual, weights);
            }
            else
            {
                Oracle.AssertBitIdentical(first, actual, context + ", degree 2 against 1");
                Oracle.AssertBitIdentical(firstWeights, weights, context + ", weights, degree 2 against 1");
            }
        }

        if (feature is "none" or "causal" or "window (5, 2)")
        {
            // Head by head through the single-head overload on views of the same buffers: the same bits.
            float[] headOutput = new float[nq * ValueDim], headWeights = new float[nq * nk];
            for (int b = 0; b < Batch; b++)
            {
                for (int h = 0; h < Heads; h++)
                {
                    int g = h / (Heads / KvHeads);
                    var query = new ReadOnlySpan2D<float>(q, b * nq * Heads * HeadDim + h * HeadDim, nq, HeadDim, (Heads - 1) * HeadDim);
                    var key = new ReadOnlySpan2D<float>(k, b * nk * KvHeads * HeadDim + g * HeadDim, nk, HeadDim, (KvHeads - 1) * HeadDim);
                    var value = new ReadOnlySpan2D<float>(v, b * nk * KvHeads * ValueDim + g * ValueDim, nk, ValueDim, (KvHeads - 1) * ValueDim);
                    Attention.Compute(query, key, value, headOutput.AsSpan().AsSpan2D(nq, ValueDim), headWeights.AsSpan().AsSpan2D(nq, nk), options);
                    Oracle.AssertBitIdentical(headWeights, firstWeights.AsSpan((b * Heads + h) * nq * nk, nq * nk), $"{context}, b={b} h={h}, against the single-head overload");
                }
            }
        }
    }

    public static TheoryData<int, int, string> PaddedCases
    {
        get
        {
            var data = new TheoryData<int, int, string>();
            foreach (var (nq, nk) in new[] { (1, 1), (3, 17), (17, 3), (63, 65), (129, 127) })
            {
                foreach (string feature in new[] { "none", "causal", "causal top-left + window (4, 0)", "alibi + sinks + lse", "additive (per sequence)" })
                {
                    data.Add(nq, nk, feature);
                }
            }

            return data;
        }
    }

    /// <summary>
    /// The padded weights overloads against the reference: three sequences (a full one, a short one, and one with no
    /// key or, where there is more than one query row, no query row), query lengths given and not. Padded rows and keys
    /// must weigh exactly 0 (the weights start at −7) and padded output rows be exactly 0; the rest within
    /// <see cref="Tolerance.Weights"/> and <see cref="Tolerance.Magnitude1"/>; degree 2 equals degree 1 bit for bit.
    /// </summary>
    [Theory]
    [MemberData(nameof(PaddedCases))]
    public void PaddedWeights_MatchTheReference(int nq, int nk, string feature)
    {
        const int batch = 3;
        var rng = new Random(nq * 31 + nk + feature.Length);
        var shape = new AttentionShape(batch, nq, nk, Heads, HeadDim) { KvHeads = KvHeads, ValueDim = ValueDim };
        float[] q = TestInputs.Uniform(rng, batch * nq * Heads * HeadDim, 1f), k = TestInputs.Uniform(rng, batch * nk * KvHeads * HeadDim, 1f);
        float[] v = TestInputs.Uniform(rng, batch * nk * KvHeads * ValueDim, 1f);
        float[] additive = TestInputs.Uniform(rng, batch * nq * nk, 2f);
        float[] slopes = [0.5f, 0.25f, 0.125f, 0.0625f], sinks = [0.3f, -1f, 2.5f, 0f];
        int[] keyLengths = [nk, Math.Max(1, nk / 2), 0];
        var options = feature switch
        {
            "causal" => new AttentionOptions { IsCausal = true },
            "causal top-left + window (4, 0)" => new AttentionOptions { IsCausal = true, CausalAlignment = CausalAlignment.TopLeft, Window = new AttentionWindow(4, 0) },
            _ => default,
        };
        int outputLength = batch * nq * Heads * ValueDim, weightsLength = batch * Heads * nq * nk, lseLength = batch * Heads * nq;
        AttentionModifiers Modifiers(float[] lse) => feature switch
        {
            "alibi + sinks + lse" => new AttentionModifiers { AlibiSlopes = slopes, Sinks = sinks, LogSumExp = lse },
            "additive (per sequence)" => new AttentionModifiers { AdditiveMask = additive, MaskStrides = AttentionMaskStrides.Broadcast(true, 1, nq, nk) },
            _ => default,
        };

        foreach (int[] queryLengths in new[] { [], new[] { nq, Math.Max(1, nq - 2), nq > 1 ? 0 : 1 } })
        {
            string context = string.Create(CultureInfo.InvariantCulture,
                $"{feature}, nq={nq} nk={nk}, key lengths [{string.Join(", ", keyLengths)}], query lengths [{string.Join(", ", queryLengths)}], {SimdWidth.Name}");
            float[] expected = new float[outputLength], expectedWeights = new float[weightsLength], expectedLse = new float[lseLength];
            NaiveAttention.ComputeMultiHeadPadded(q, k, v, expected, expectedWeights, shape, keyLengths, queryLengths, Modifiers(expectedLse), options);
            float[]? first = null, firstWeights = null;
            foreach (int degree in new[] { 1, 2 })
            {
                float[] actual = new float[outputLength], weights = new float[weightsLength], lse = new float[lseLength];
                actual.AsSpan().Fill(-7f);
                weights.AsSpan().Fill(-7f);
                var run = options with { MaxDegreeOfParallelism = degree };
                if (feature == "none")
                {
                    Attention.ComputeMultiHeadPadded(q, k, v, actual, weights, shape, keyLengths, queryLengths, run);
                }
                else
                {
                    Attention.ComputeMultiHeadPadded(q, k, v, actual, weights, shape, keyLengths, queryLengths, Modifiers(lse), run);
                }

                Oracle.AssertClose(expected, actual, batch * nq, Heads * ValueDim, Tolerance.Magnitude1, context);
                Oracle.AssertClose(expectedWeights, weights, batch * Heads * nq, nk, Tolerance.Weights, context + ", weights");
                for (int b = 0; b < batch; b++)
                {
                    int realQueries = queryLengths.Length == 0 ? nq : queryLengths[b];
                    for (int h = 0; h < Heads; h++)
                    {
                        for (int i = 0; i < nq; i++)
                        {
                            int row = ((b * Heads) + h) * nq + i;
                            int from = i >= realQueries ? 0 : keyLengths[b];
                            for (int j = from; j < nk; j++)
                            {
                                Assert.True(weights[row * nk + j] == 0f, $"{context}, degree {degree}: weight (b={b}, h={h}, i={i}, j={j}) of a padded row or key is {weights[row * nk + j]}");
                            }
                        }
                    }

                    for (int i = realQueries; i < nq; i++)
                    {
                        Assert.All(actual.AsSpan((b * nq + i) * Heads * ValueDim, Heads * ValueDim).ToArray(), x => Assert.Equal(0f, x));
                    }
                }

                if (feature.Contains("lse", StringComparison.Ordinal))
                {
                    Oracle.AssertClose(expectedLse, lse, batch * Heads, nq, Tolerance.Magnitude1, context + ", log-sum-exp");
                }

                if (first is null)
                {
                    (first, firstWeights) = (actual, weights);
                }
                else
                {
                    Oracle.AssertBitIdentical(first, actual, context + ", degree 2 against 1");
                    Oracle.AssertBitIdentical(firstWeights, weights, context + ", weights, degree 2 against 1");
                }
            }
        }
    }

    [Fact]
    public void WeightsOfTheWrongLength_OrOverTheOutput_AreRejectedBeforeAnythingIsWritten()
    {
        var shape = new AttentionShape(1, 3, 5, 2, 4);
        float[] q = new float[3 * 8], k = new float[5 * 8], v = new float[5 * 8], output = new float[3 * 8], weights = new float[2 * 3 * 5 - 1];
        output.AsSpan().Fill(-7f);
        var e = Assert.ThrowsAny<ArgumentException>(() => Attention.ComputeMultiHead(q, k, v, output, weights, shape));
        Assert.Equal("weights", e.ParamName);
        Assert.Contains("30", e.Message, StringComparison.Ordinal);
        Assert.Contains("29", e.Message, StringComparison.Ordinal);
        Assert.All(output, x => Assert.Equal(-7f, x));
        float[] shared = new float[30 + 24];
        var o = Assert.ThrowsAny<ArgumentException>(() => Attention.ComputeMultiHead(q, k, v, shared.AsSpan(0, 24), shared.AsSpan(20, 30), shape));
        Assert.Equal("weights", o.ParamName);
        var r = Assert.ThrowsAny<ArgumentException>(() => NaiveAttention.ComputeMultiHead(q, k, v, output, weights, shape));
        Assert.Equal(e.Message, r.Message);
    }
}
