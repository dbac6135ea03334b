using System.Globalization;
using SelfAttention.Reference;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Masks;

/// <summary>
/// <see cref="KvCache.Attend(ReadOnlySpan{float}, Span{float}, int, int, AttentionModifiers, AttentionOptions)"/> against
/// <see cref="NaiveAttention.ComputeMultiHeadPadded(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionModifiers, AttentionOptions)"/>
/// over the cached keys and values laid out padded, <c>[Batch, Length, …]</c>, with key lengths = each sequence's cached
/// tokens (padding NaN, so a read past a sequence's length shows). Half storage is compared with the reference over the
/// half-rounded keys and values (what the cache stores). Queries of 1, 3 and 8 rows run the decode kernel in place; 11
/// rows the tiled kernel (after widening, for Half). Tolerance: <see cref="Tolerance.Magnitude1"/> for outputs and
/// log-sum-exp alike.
/// </summary>
public class KvCacheModifierTests
{
    private const int Batch = 3, Heads = 4, KvHeads = 2, HeadDim = 24, ValueDim = 8, Capacity = 40;

    private static readonly float[] s_slopes = [0.5f, 0.25f, 0.125f, 0.0625f], s_sinks = [0.3f, -1f, 2.5f, 0f];

    private static readonly Dictionary<string, (AttentionOptions Options, bool Alibi, bool Sinks, bool Additive)> s_features = new()
    {
        ["alibi + sinks"] = (default, true, true, false),
        ["causal + alibi"] = (new() { IsCausal = true }, true, false, false),
        ["softcap 1.5 + sinks"] = (new() { SoftCap = 1.5f, Scale = 1f }, false, true, false),
        ["causal + window (4, 0) + alibi + sinks"] = (new() { IsCausal = true, Window = new AttentionWindow(4, 0) }, true, true, false),
        ["additive (shared) + causal"] = (new() { IsCausal = true }, false, false, true),
        ["lse only"] = (default, false, false, false),
    };

    public static TheoryData<string, KvCacheStorage, int, bool> Cases
    {
        get
        {
            var data = new TheoryData<string, KvCacheStorage, int, bool>();
            foreach (string feature in s_features.Keys)
            {
                foreach (var storage in new[] { KvCacheStorage.Single, KvCacheStorage.Half })
                {
                    foreach (int nq in new[] { 1, 3, 8, 11 })
                    {
                        data.Add(feature, storage, nq, true);
                        if (nq != 8)
                        {
                            data.Add(feature, storage, nq, false);
                        }
                    }
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Attend_WithModifiers_MatchesTheReferenceOverTheCachedTokens(string name, KvCacheStorage storage, int queryLength, bool ragged)
    {
        var (options, alibi, sinks, additive) = s_features[name];
        string context = string.Create(CultureInfo.InvariantCulture, $"{name}, {storage}, nq={queryLength}, ragged={ragged}, {SimdWidth.Name}");
        var rng = new Random(queryLength * 31 + (ragged ? 7 : 0) + (int)storage);
        int[] lengths = ragged ? [13, 5, 20] : [17, 17, 17];
        int length = lengths.Max();
        int keyWidth = KvHeads * HeadDim, valueWidth = KvHeads * ValueDim;

        var cache = new KvCache(Capacity, KvHeads, HeadDim, ValueDim, Batch, storage);
        float[] keys = new float[Batch * length * keyWidth], values = new float[Batch * length * valueWidth];
        keys.AsSpan().Fill(float.NaN);
        values.AsSpan().Fill(float.NaN);
        for (int b = 0; b < Batch; b++)
        {
            float[] k = TestInputs.Uniform(rng, lengths[b] * keyWidth, 1f), v = TestInputs.Uniform(rng, lengths[b] * valueWidth, 1f);
            cache.Append(b, k, v, lengths[b]);
            Func<float, float> stored = storage == KvCacheStorage.Half ? x => (float)(Half)x : x => x;
            k.Select(stored).ToArray().CopyTo(keys, b * length * keyWidth);
            v.Select(stored).ToArray().CopyTo(values, b * length * valueWidth);
        }

        float[] query = TestInputs.Uniform(rng, Batch * queryLength * Heads * HeadDim, 1f);
        float[] mask = new float[queryLength * length];
        for (int n = 0; n < mask.Length; n++)
        {
            mask[n] = rng.NextDouble() < 0.2 ? float.NegativeInfinity : (float)(rng.NextDouble() * 4 - 2);
        }

        float[] expected = new float[Batch * queryLength * Heads * ValueDim], actual = new float[expected.Length];
        float[] expectedLse = new float[Batch * Heads * queryLength], actualLse = new float[expectedLse.Length];
        actual.AsSpan().Fill(-7f);
        actualLse.AsSpan().Fill(-7f);
        AttentionModifiers Modifiers(float[] lse) => new()
        {
            AlibiSlopes = alibi ? s_slopes : default, Sinks = sinks ? s_sinks : default, AdditiveMask = additive ? mask : default, LogSumExp = lse,
        };

        var shape = new AttentionShape(Batch, queryLength, length, Heads, HeadDim) { KvHeads = KvHeads, ValueDim = ValueDim };
        NaiveAttention.ComputeMultiHeadPadded(query, keys, values, expected, shape, lengths, default, Modifiers(expectedLse), options);
        cache.Attend(query, actual, Heads, queryLength, Modifiers(actualLse), options);

        Oracle.AssertClose(expected, actual, Batch * queryLength, Heads * ValueDim, Tolerance.Magnitude1, context);
        Oracle.AssertClose(expectedLse, actualLse, Batch * Heads, queryLength, Tolerance.Magnitude1, context + ", log-sum-exp");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Attend_OnAnEmptyCache_GivesZerosAndTheSinksLogSumExp(bool sinks)
    {
        var cache = new KvCache(Capacity, KvHeads, HeadDim, ValueDim, Batch, KvCacheStorage.Half);
        const int queryLength = 2;
        float[] query = TestInputs.Uniform(new Random(5), Batch * queryLength * Heads * HeadDim, 1f);
        float[] output = new float[Batch * queryLength * Heads * ValueDim], lse = new float[Batch * Heads * queryLength];
        output.AsSpan().Fill(-7f);
        cache.Attend(query, output, Heads, queryLength, new AttentionModifiers { Sinks = sinks ? s_sinks : default, LogSumExp = lse, AlibiSlopes = s_slopes });

        Assert.All(output, x => Assert.Equal(0f, x));
        for (int r = 0; r < lse.Length; r++)
        {
            Assert.Equal(sinks ? s_sinks[r / queryLength % Heads] : float.NegativeInfinity, lse[r]);
        }
    }

    [Fact]
    public void Attend_WithDefaultModifiers_EqualsTheOverloadWithout_BitForBit()
    {
        var rng = new Random(11);
        var cache = new KvCache(Capacity, KvHeads, HeadDim, ValueDim, Batch);
        cache.Append(TestInputs.Uniform(rng, Batch * 9 * KvHeads * HeadDim, 1f), TestInputs.Uniform(rng, Batch * 9 * KvHeads * ValueDim, 1f), 9);
        float[] query = TestInputs.Uniform(rng, Batch * 3 * Heads * HeadDim, 1f);
        float[] plain = new float[Batch * 3 * Heads * ValueDim], modified = new float[plain.Length];
        var options = new AttentionOptions { IsCausal = true };
        cache.Attend(query, plain, Heads, 3, options);
        cache.Attend(query, modified, Heads, 3, default(AttentionModifiers), options);
        Oracle.AssertBitIdentical(plain, modified, "default modifiers");
    }
}
