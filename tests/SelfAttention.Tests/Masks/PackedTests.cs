using SelfAttention.Reference;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Masks;

/// <summary>
/// Packed variable-length sequences (<see cref="Attention.ComputeMultiHeadPacked(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionOptions)"/>, <c>cu_seqlens</c> offsets): packed
/// equals padded (the same sequences in padded buffers through <see cref="Attention.ComputeMultiHeadPadded(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionOptions)"/>)
/// and the reference's packed path, row for row, over random batches with lengths 0, 1, ragged and the maximum, with
/// causal (both alignments), windows, softcap and grouped-query heads, at every kernel; lengths of queries and keys differ.
/// Tolerance: <see cref="Tolerance.Magnitude1"/>.
/// </summary>
public class PackedTests
{
    public static TheoryData<int, AttentionKernel> Cases()
    {
        var data = new TheoryData<int, AttentionKernel>();
        foreach (AttentionKernel kernel in new[] { AttentionKernel.Auto, AttentionKernel.Tiled, AttentionKernel.RowByRow })
        {
            for (int seed = 0; seed < 8; seed++)
            {
                data.Add(seed, kernel);
            }
        }

        return data;
    }

    private static AttentionOptions Options(int seed, AttentionKernel kernel) => (seed % 4) switch
    {
        0 => new AttentionOptions { Kernel = kernel },
        1 => new AttentionOptions { Kernel = kernel, IsCausal = true },
        2 => new AttentionOptions { Kernel = kernel, IsCausal = true, CausalAlignment = CausalAlignment.TopLeft, Window = new AttentionWindow(5, 0), MaxDegreeOfParallelism = 2 },
        _ => new AttentionOptions { Kernel = kernel, SoftCap = 5f, Window = new AttentionWindow(-1, 3) },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Packed_EqualsPadded_AndTheReference(int seed, AttentionKernel kernel)
    {
        var rng = new Random(seed);
        int batch = 1 + rng.Next(5), heads = seed % 2 == 0 ? 4 : 6, kvHeads = seed % 2 == 0 ? 2 : 6, headDim = 8 + rng.Next(3) * 8, valueDim = 8;
        int maxQ = 70, maxK = 90;
        int[] queryLengths = new int[batch], keyLengths = new int[batch];
        int[] edges = { 0, 1, maxQ };
        for (int b = 0; b < batch; b++)
        {
            queryLengths[b] = rng.Next(4) == 0 ? edges[rng.Next(3)] : 1 + rng.Next(maxQ);
            keyLengths[b] = rng.Next(4) == 0 ? Math.Min(maxK, edges[rng.Next(3)]) : 1 + rng.Next(maxK);
        }

        int[] queryOffsets = Offsets(queryLengths), keyOffsets = Offsets(keyLengths);
        int totalQ = queryOffsets[batch], totalK = keyOffsets[batch];
        var shape = new AttentionShape(batch, maxQ, maxK, heads, headDim) { KvHeads = kvHeads, ValueDim = valueDim };
        int qw = heads * headDim, kw = kvHeads * headDim, vw = kvHeads * valueDim, ow = heads * valueDim;
        float[] q = TestInputs.Uniform(rng, totalQ * qw, 1f), k = TestInputs.Uniform(rng, totalK * kw, 1f), v = TestInputs.Uniform(rng, totalK * vw, 1f);
        var options = Options(seed, kernel);

        float[] packed = new float[totalQ * ow], reference = new float[totalQ * ow];
        Attention.ComputeMultiHeadPacked(q, k, v, packed, shape, queryOffsets, keyOffsets, options);
        NaiveAttention.ComputeMultiHeadPacked(q, k, v, reference, shape, queryOffsets, keyOffsets, options);

        // The same sequences padded to (maxQ, maxK).
        float[] pq = new float[batch * maxQ * qw], pk = new float[batch * maxK * kw], pv = new float[batch * maxK * vw], padded = new float[batch * maxQ * ow];
        for (int b = 0; b < batch; b++)
        {
            q.AsSpan(queryOffsets[b] * qw, queryLengths[b] * qw).CopyTo(pq.AsSpan(b * maxQ * qw));
            k.AsSpan(keyOffsets[b] * kw, keyLengths[b] * kw).CopyTo(pk.AsSpan(b * maxK * kw));
            v.AsSpan(keyOffsets[b] * vw, keyLengths[b] * vw).CopyTo(pv.AsSpan(b * maxK * vw));
        }

        Attention.ComputeMultiHeadPadded(pq, pk, pv, padded, shape, keyLengths, queryLengths, options);
        float[] unpadded = new float[totalQ * ow];
        for (int b = 0; b < batch; b++)
        {
            padded.AsSpan(b * maxQ * ow, queryLengths[b] * ow).CopyTo(unpadded.AsSpan(queryOffsets[b] * ow));
        }

        string context = $"seed {seed}, {kernel}, queries [{string.Join(", ", queryLengths)}], keys [{string.Join(", ", keyLengths)}], H {heads}/{kvHeads}, d {headDim}, {options}";
        Oracle.AssertClose(reference, packed, totalQ, ow, Tolerance.Magnitude1, context + ": packed against the reference");
        Oracle.AssertClose(unpadded, packed, totalQ, ow, Tolerance.Magnitude1, context + ": packed against padded");
    }

    [Fact]
    public void GroupedQuery_EachSequenceAlone_EqualsPacked()
    {
        // Three sentences of a BERT-like batch with 8 query heads over 2 kv heads: each run alone (one sequence of its
        // own lengths through ComputeMultiHead) gives the same bits as its rows of the packed call.
        var rng = new Random(3);
        int[] lengths = { 17, 128, 1 };
        int[] offsets = Offsets(lengths);
        int heads = 8, kvHeads = 2, d = 16, total = offsets[^1];
        var shape = new AttentionShape(lengths.Length, 128, 128, heads, d) { KvHeads = kvHeads };
        float[] q = TestInputs.Uniform(rng, total * heads * d, 1f), k = TestInputs.Uniform(rng, total * kvHeads * d, 1f), v = TestInputs.Uniform(rng, total * kvHeads * d, 1f);
        float[] packed = new float[total * heads * d];
        var options = new AttentionOptions { IsCausal = true };
        Attention.ComputeMultiHeadPacked(q, k, v, packed, shape, offsets, offsets, options);
        for (int b = 0; b < lengths.Length; b++)
        {
            int n = lengths[b];
            float[] alone = new float[n * heads * d];
            Attention.ComputeMultiHead(q.AsSpan(offsets[b] * heads * d, n * heads * d), k.AsSpan(offsets[b] * kvHeads * d, n * kvHeads * d),
                                       v.AsSpan(offsets[b] * kvHeads * d, n * kvHeads * d), alone, shape with { Batch = 1, QueryLength = n, KeyLength = n }, options);
            Assert.Equal(alone, packed.AsSpan(offsets[b] * heads * d, n * heads * d).ToArray());
        }
    }

    [Fact]
    public void NoSequences_AndEmptySequences_WriteNothingOrZeros()
    {
        var shape = new AttentionShape(0, 4, 4, 2, 4);
        Attention.ComputeMultiHeadPacked([], [], [], [], shape, [0], [0]);
        NaiveAttention.ComputeMultiHeadPacked([], [], [], [], shape, [0], [0]);

        // Two sequences: one with no rows at all, one with queries and no keys (zeros).
        var two = new AttentionShape(2, 4, 4, 2, 4);
        float[] q = Enumerable.Repeat(1f, 3 * 8).ToArray(), output = Enumerable.Repeat(float.NaN, 3 * 8).ToArray();
        Attention.ComputeMultiHeadPacked(q, [], [], output, two, [0, 0, 3], [0, 0, 0]);
        Assert.All(output, x => Assert.Equal(0f, x));
    }

    private static int[] Offsets(int[] lengths)
    {
        int[] offsets = new int[lengths.Length + 1];
        for (int b = 0; b < lengths.Length; b++)
        {
            offsets[b + 1] = offsets[b] + lengths[b];
        }

        return offsets;
    }
}
