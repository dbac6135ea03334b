using SelfAttention.Reference;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Decode;

/// <summary>
/// Sequences of different lengths in one <see cref="KvCache"/>: appending to one sequence leaves every other
/// sequence's rows and length alone, and one <see cref="KvCache.Attend"/> serves each sequence against its own length,
/// equal to attention over that sequence alone (float rounding), at every storage and for 1 to 8 query rows.
/// </summary>
public class RaggedCacheTests
{
    public static TheoryData<KvCacheStorage, int> Cases()
    {
        var data = new TheoryData<KvCacheStorage, int>();
        foreach (var storage in new[] { KvCacheStorage.Single, KvCacheStorage.Half, KvCacheStorage.BFloat16, KvCacheStorage.Int8 })
        {
            foreach (int nq in new[] { 1, 3, 8 })
            {
                data.Add(storage, nq);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EachSequenceAttendsToItsOwnLength(KvCacheStorage storage, int queryLength)
    {
        const int heads = 8, kvHeads = 2, headDim = 32, capacity = 300;
        int[] lengths = [0, 5, 100, 257, 64];
        int batch = lengths.Length, keyWidth = kvHeads * headDim;
        var rng = new Random(queryLength + (int)storage * 10);
        var cache = new KvCache(capacity, kvHeads, headDim, batch: batch, storage: storage);
        var perSequence = new (float[] Keys, float[] Values)[batch];
        for (int b = batch - 1; b >= 0; b--)
        {
            perSequence[b] = (TestInputs.Uniform(rng, lengths[b] * keyWidth, 1f), TestInputs.Uniform(rng, lengths[b] * keyWidth, 1f));
        }

        // Appended in pieces and out of order, so that sequences grow past each other.
        for (int b = 0; b < batch; b++)
        {
            int first = lengths[b] / 2;
            cache.Append(b, perSequence[b].Keys.AsSpan(0, first * keyWidth), perSequence[b].Values.AsSpan(0, first * keyWidth), first);
        }

        for (int b = batch - 1; b >= 0; b--)
        {
            int first = lengths[b] / 2, rest = lengths[b] - first;
            cache.Append(b, perSequence[b].Keys.AsSpan(first * keyWidth), perSequence[b].Values.AsSpan(first * keyWidth), rest);
        }

        Assert.Equal(257, cache.Length);
        for (int b = 0; b < batch; b++)
        {
            Assert.Equal(lengths[b], cache.SequenceLength(b));
        }

        float[] query = TestInputs.Uniform(rng, batch * queryLength * heads * headDim, 1f);
        foreach (var options in new AttentionOptions[] { default, new() { IsCausal = true } })
        {
            float[] actual = new float[batch * queryLength * heads * headDim];
            actual.AsSpan().Fill(float.NaN);
            cache.Attend(query, actual, heads, queryLength, options);
            for (int b = 0; b < batch; b++)
            {
                int n = lengths[b];
                float[] expected = new float[queryLength * heads * headDim];
                if (n > 0)
                {
                    float[] k = new float[n * keyWidth], v = new float[n * keyWidth];
                    cache.CopyStored(b, n, k, v);
                    var shape = new AttentionShape(1, queryLength, n, heads, headDim) { KvHeads = kvHeads };
                    NaiveAttention.ComputeMultiHead(query.AsSpan(b * expected.Length, expected.Length), k, v, expected, shape, options);
                }

                LowPrecisionCacheTests.AssertClose(expected, actual.AsSpan(b * expected.Length, expected.Length).ToArray(), 1e-5,
                    $"{storage} nq={queryLength} causal={options.IsCausal} sequence {b} (length {n})");
            }
        }
    }

    [Theory]
    [InlineData(KvCacheStorage.Single)]
    [InlineData(KvCacheStorage.Int8)]
    public void AppendingToOneSequence_NeverTouchesAnother(KvCacheStorage storage)
    {
        const int kvHeads = 2, headDim = 40, capacity = 20, batch = 3, keyWidth = kvHeads * headDim;
        var rng = new Random(2);
        var cache = new KvCache(capacity, kvHeads, headDim, batch: batch, storage: storage);
        float[] all = TestInputs.Uniform(rng, batch * 4 * keyWidth, 1f);
        cache.Append(all, all, 4);
        float[][] before = new float[batch][];
        for (int b = 0; b < batch; b++)
        {
            before[b] = new float[capacity * keyWidth];
            cache.CopyStored(b, capacity, before[b], new float[capacity * keyWidth]);
        }

        float[] more = TestInputs.Uniform(rng, 16 * keyWidth, 1f);
        cache.Append(1, more, more, 16);
        Assert.Equal(20, cache.SequenceLength(1));
        Assert.Equal(4, cache.SequenceLength(0));
        Assert.Equal(4, cache.SequenceLength(2));
        Assert.Equal(20, cache.Length);
        for (int b = 0; b < batch; b += 2)
        {
            float[] after = new float[capacity * keyWidth];
            cache.CopyStored(b, capacity, after, new float[capacity * keyWidth]);
            Assert.Equal(before[b], after);
        }

        // The sequence is full; the others still have room, but an all-sequence append must fit the longest.
        var e = Assert.Throws<ArgumentException>(() => cache.Append(1, more.AsSpan(0, keyWidth), more.AsSpan(0, keyWidth), 1));
        Assert.Equal("tokenCount", e.ParamName);
        Assert.Contains("expected at most 0", e.Message);
        e = Assert.Throws<ArgumentException>(() => cache.Append(all.AsSpan(0, batch * keyWidth), all.AsSpan(0, batch * keyWidth), 1));
        Assert.Equal("tokenCount", e.ParamName);
        cache.Append(0, more.AsSpan(0, keyWidth), more.AsSpan(0, keyWidth), 1);
        Assert.Equal(5, cache.SequenceLength(0));

        // Rewinding one sequence leaves the others; Truncate(length) caps every sequence.
        cache.Truncate(1, 2);
        Assert.Equal(2, cache.SequenceLength(1));
        Assert.Equal(5, cache.Length);
        cache.Truncate(3);
        Assert.Equal([3, 2, 3], new[] { cache.SequenceLength(0), cache.SequenceLength(1), cache.SequenceLength(2) });
    }

    [Fact]
    public void BadSequenceCalls_AreRejectedNamingTheParameter()
    {
        var cache = new KvCache(4, 1, 2, batch: 2);
        var e = Assert.ThrowsAny<ArgumentException>(() => cache.Append(2, [1, 2], [1, 2], 1));
        Assert.Equal("batchIndex", e.ParamName);
        Assert.Contains("expected 0 to 1, actual 2", e.Message);
        e = Assert.ThrowsAny<ArgumentException>(() => cache.Append(-1, [1, 2], [1, 2], 1));
        Assert.Equal("batchIndex", e.ParamName);
        e = Assert.ThrowsAny<ArgumentException>(() => cache.Append(0, [1, 2, 3], [1, 2], 1));
        Assert.Equal("keys", e.ParamName);
        e = Assert.ThrowsAny<ArgumentException>(() => cache.Append(0, [1, 2], [1, 2, 3], 1));
        Assert.Equal("values", e.ParamName);
        e = Assert.ThrowsAny<ArgumentException>(() => cache.Append(0, [1, 2], [1, 2], -1));
        Assert.Equal("tokenCount", e.ParamName);
        e = Assert.ThrowsAny<ArgumentException>(() => cache.SequenceLength(5));
        Assert.Equal("batchIndex", e.ParamName);
        e = Assert.ThrowsAny<ArgumentException>(() => cache.Truncate(0, 1));
        Assert.Equal("length", e.ParamName);
        Assert.Equal(0, cache.SequenceLength(0));
        Assert.Equal(0, cache.Length);
    }
}
