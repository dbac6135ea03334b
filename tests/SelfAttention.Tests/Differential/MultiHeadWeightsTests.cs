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
        var options = PaddedOptions(feature);
        int outputLength = batch * nq * Heads * ValueDim, weightsLength = batch * Heads * nq * nk, lseLength = batch * Heads * nq;
        AttentionModifiers Modifiers(float[] lse) => PaddedModifiers(feature, slopes, sinks, additive, lse, nq, nk);

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

    // The options and modifiers of the padded and packed cases' features.
    private static AttentionOptions PaddedOptions(string feature) => feature switch
    {
        "causal" => new AttentionOptions { IsCausal = true },
        "causal top-left + window (4, 0)" => new AttentionOptions { IsCausal = true, CausalAlignment = CausalAlignment.TopLeft, Window = new AttentionWindow(4, 0) },
        _ => default,
    };

    private static AttentionModifiers PaddedModifiers(string feature, float[] slopes, float[] sinks, float[] additive, float[] lse, int nq, int nk) => feature switch
    {
        "alibi + sinks + lse" => new AttentionModifiers { AlibiSlopes = slopes, Sinks = sinks, LogSumExp = lse },
        "additive (per sequence)" => new AttentionModifiers { AdditiveMask = additive, MaskStrides = AttentionMaskStrides.Broadcast(true, 1, nq, nk) },
        _ => default,
    };

    /// <summary>
    /// The packed weights overloads (sequence b's <c>[Heads, q_b, k_b]</c> blocks one after another) against the
    /// reference's, on three sequences of ragged lengths including an empty one and one with no keys. The reference's
    /// packed weights must equal the real blocks of its padded weights exactly (the layout is what the docs say); the
    /// fast path's within <see cref="Tolerance.Weights"/> (outputs <see cref="Tolerance.Magnitude1"/>), the sentinels on
    /// both sides of the weights untouched, degree 2 bit-identical to degree 1.
    /// </summary>
    [Theory]
    [MemberData(nameof(PaddedCases))]
    public void PackedWeights_MatchTheReference(int nq, int nk, string feature)
    {
        const int batch = 3;
        var rng = new Random(nq * 37 + nk + feature.Length);
        var shape = new AttentionShape(batch, nq, nk, Heads, HeadDim) { KvHeads = KvHeads, ValueDim = ValueDim };
        // Sequence 0 is shorter than the shape both ways (its rows are not the shape's key stride apart), sequence 1 has
        // no query rows (when nq > 1) over every key, sequence 2 every row over no key.
        int[] queryLengths = [Math.Max(1, nq - 2), nq > 1 ? 0 : 1, nq], keyLengths = [Math.Max(1, nk / 2), nk, 0];
        int[] queryOffsets = [0, queryLengths[0], queryLengths[0] + queryLengths[1], queryLengths.Sum()];
        int[] keyOffsets = [0, keyLengths[0], keyLengths[0] + keyLengths[1], keyLengths.Sum()];
        int queryRows = queryOffsets[batch], keyRows = keyOffsets[batch];
        float[] q = TestInputs.Uniform(rng, queryRows * Heads * HeadDim, 1f), k = TestInputs.Uniform(rng, keyRows * KvHeads * HeadDim, 1f);
        float[] v = TestInputs.Uniform(rng, keyRows * KvHeads * ValueDim, 1f);
        float[] additive = TestInputs.Uniform(rng, batch * nq * nk, 2f);
        float[] slopes = [0.5f, 0.25f, 0.125f, 0.0625f], sinks = [0.3f, -1f, 2.5f, 0f];
        var options = PaddedOptions(feature);
        AttentionModifiers Modifiers(float[] lse) => PaddedModifiers(feature, slopes, sinks, additive, lse, nq, nk);

        int outputLength = queryRows * Heads * ValueDim, lseLength = Heads * queryRows;
        int weightsLength = Heads * Enumerable.Range(0, batch).Sum(b => queryLengths[b] * keyLengths[b]);
        string context = string.Create(CultureInfo.InvariantCulture,
            $"{feature}, nq={nq} nk={nk}, query lengths [{string.Join(", ", queryLengths)}], key lengths [{string.Join(", ", keyLengths)}], {SimdWidth.Name}");
        float[] expected = new float[outputLength], expectedWeights = new float[weightsLength], expectedLse = new float[lseLength];
        NaiveAttention.ComputeMultiHeadPacked(q, k, v, expected, expectedWeights, shape, queryOffsets, keyOffsets, Modifiers(expectedLse), options);

        // The same sequences padded to (nq, nk): the packed blocks are the padded weights' real rows and keys.
        float[] paddedQ = new float[batch * nq * Heads * HeadDim], paddedK = new float[batch * nk * KvHeads * HeadDim], paddedV = new float[batch * nk * KvHeads * ValueDim];
        for (int b = 0; b < batch; b++)
        {
            q.AsSpan(queryOffsets[b] * Heads * HeadDim, queryLengths[b] * Heads * HeadDim).CopyTo(paddedQ.AsSpan(b * nq * Heads * HeadDim));
            k.AsSpan(keyOffsets[b] * KvHeads * HeadDim, keyLengths[b] * KvHeads * HeadDim).CopyTo(paddedK.AsSpan(b * nk * KvHeads * HeadDim));
            v.AsSpan(keyOffsets[b] * KvHeads * ValueDim, keyLengths[b] * KvHeads * ValueDim).CopyTo(paddedV.AsSpan(b * nk * KvHeads * ValueDim));
        }

        float[] paddedWeights = new float[batch * Heads * nq * nk];
        NaiveAttention.ComputeMultiHeadPadded(paddedQ, paddedK, paddedV, new float[batch * nq * Heads * ValueDim], paddedWeights, shape, keyLengths, queryLengths,
                                              Modifiers(new float[batch * Heads * nq]), options);
        int at = 0;
        for (int b = 0; b < batch; b++)
        {
            for (int h = 0; h < Heads; h++)
            {
                for (int i = 0; i < queryLengths[b]; i++)
                {
                    for (int j = 0; j < keyLengths[b]; j++, at++)
                    {
                        float padded = paddedWeights[(((b * Heads) + h) * nq + i) * nk + j];
                        Assert.True(expectedWeights[at] == padded, $"{context}: reference packed weight (b={b}, h={h}, i={i}, j={j}) {expectedWeights[at]:R}, padded {padded:R}");
                    }
                }
            }
        }

        float[]? first = null, firstWeights = null;
        foreach (int degree in new[] { 1, 2 })
        {
            float[] actual = new float[outputLength], guarded = new float[weightsLength + 2], lse = new float[lseLength];
            guarded.AsSpan().Fill(-7f);
            Span<float> weights = guarded.AsSpan(1, weightsLength);
            var run = options with { MaxDegreeOfParallelism = degree };
            if (feature == "none")
            {
                Attention.ComputeMultiHeadPacked(q, k, v, actual, weights, shape, queryOffsets, keyOffsets, run);
            }
            else
            {
                Attention.ComputeMultiHeadPacked(q, k, v, actual, weights, shape, queryOffsets, keyOffsets, Modifiers(lse), run);
            }

            Assert.True(guarded[0] == -7f && guarded[^1] == -7f, $"{context}, degree {degree}: a sentinel beside the weights was written");
            Oracle.AssertClose(expected, actual, queryRows, Heads * ValueDim, Tolerance.Magnitude1, context);
            Oracle.AssertClose(expectedWeights, weights, 1, weightsLength, Tolerance.Weights, context + ", weights");
            if (feature.Contains("lse", StringComparison.Ordinal))
            {
                Oracle.AssertClose(expectedLse, lse, Heads, queryRows, Tolerance.Magnitude1, context + ", log-sum-exp");
            }

            if (first is null)
            {
                (first, firstWeights) = (actual, weights.ToArray());
            }
            else
            {
                Oracle.AssertBitIdentical(first, actual, context + ", degree 2 against 1");
                Oracle.AssertBitIdentical(firstWeights, weights, context + ", weights, degree 2 against 1");
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
