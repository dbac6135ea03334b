using System.Globalization;
using SelfAttention.Reference;
using Xunit;

namespace SelfAttention.Tests.Layers;

/// <summary>
/// <see cref="MultiHeadAttention"/>'s Forward overloads with <see cref="AttentionModifiers"/> (self, cross, against a
/// <see cref="KvCache"/>) against <see cref="NaiveMultiHeadAttention"/>'s overload, which runs each head alone through
/// <see cref="NaiveAttention"/> with its own slope, sink and mask gathered through the strides. Layer: E = 32, 4 heads
/// over 2 kv heads, d = 8, dv = 6, non-zero biases. Tolerance abs 1e-4 + rel 1e-3 (as <see cref="MultiHeadAttentionTests"/>:
/// the layer projects in float), the same for log-sum-exp (values of magnitude 1–10).
/// </summary>
public class MultiHeadAttentionModifierTests
{
    private const int ModelDim = 32, Heads = 4, KvHeads = 2, HeadDim = 8, ValueDim = 6, Batch = 2;

    private static readonly float[] s_slopes = [0.5f, 0.25f, 0.125f, 0.0625f], s_sinks = [0.3f, -1f, 2.5f, 0f];

    public static TheoryData<string, int, int> Cases
    {
        get
        {
            var data = new TheoryData<string, int, int>();
            foreach (string feature in new[] { "alibi + sinks + causal", "softcap + alibi", "boolean per head", "additive shared + sinks", "additive per batch + causal" })
            {
                foreach (var (nq, nk) in new[] { (1, 1), (5, 5), (9, 13), (13, 9), (70, 70) })
                {
                    data.Add(feature, nq, nk);
                }
            }

            return data;
        }
    }

    private static (AttentionOptions Options, bool Alibi, bool Sinks) Feature(string name) => name switch
    {
        "alibi + sinks + causal" => (new() { IsCausal = true }, true, true),
        "softcap + alibi" => (new() { SoftCap = 1.5f }, true, false),
        "additive per batch + causal" => (new() { IsCausal = true }, false, false),
        "additive shared + sinks" => (default, false, true),
        _ => (default, false, false),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_WithModifiers_MatchesTheReference(string name, int nq, int nk)
    {
        var (options, alibi, sinks) = Feature(name);
        var layer = RandomLayer();
        var rng = new DeterministicRandom((ulong)(nq * 100 + nk));
        float[] query = new float[Batch * nq * ModelDim], keyValue = new float[Batch * nk * ModelDim];
        rng.Fill(query, -1, 1);
        rng.Fill(keyValue, -1, 1);
        bool perHead = name == "boolean per head", perBatch = name.Contains("per batch", StringComparison.Ordinal);
        var strides = perHead ? AttentionMaskStrides.Broadcast(false, Heads, nq, nk)
            : perBatch ? AttentionMaskStrides.Broadcast(true, 1, nq, nk) : AttentionMaskStrides.Shared(nk);
        int maskLength = (perHead ? Heads : perBatch ? Batch : 1) * nq * nk;
        var random = new Random(nq * 7 + nk);
        bool[] boolean = Enumerable.Range(0, maskLength).Select(n => n / nk % nq % 4 != 2 && random.NextDouble() < 0.7).ToArray();
        float[] additive = Enumerable.Range(0, maskLength).Select(n => random.NextDouble() < 0.2 ? float.NegativeInfinity : (float)(random.NextDouble() * 2 - 1)).ToArray();
        bool useBoolean = name.StartsWith("boolean", StringComparison.Ordinal), useAdditive = name.StartsWith("additive", StringComparison.Ordinal);

        float[] expected = new float[Batch * nq * ModelDim], actual = new float[expected.Length];
        float[] expectedLse = new float[Batch * Heads * nq], actualLse = new float[expectedLse.Length];
        AttentionModifiers Modifiers(float[] lse) => new()
        {
            AlibiSlopes = alibi ? s_slopes : default, Sinks = sinks ? s_sinks : default, LogSumExp = lse,
            BooleanMask = useBoolean ? boolean : default, AdditiveMask = useAdditive ? additive : default, MaskStrides = strides,
        };

        string context = string.Create(CultureInfo.InvariantCulture, $"{name}, nq={nq} nk={nk}");
        NaiveMultiHeadAttention.Forward(layer, query, keyValue, expected, Batch, nq, nk, Modifiers(expectedLse), options);
        layer.Forward(query, keyValue, actual, Batch, nq, nk, Modifiers(actualLse), options);
        AssertClose(expected, actual, context);
        AssertClose(expectedLse, actualLse, context + ", log-sum-exp");

        if (nq == nk)
        {
            // Self-attention is cross-attention with the same input twice.
            float[] self = new float[expected.Length], selfLse = new float[expectedLse.Length];
            NaiveMultiHeadAttention.Forward(layer, query, query, expected, Batch, nq, nq, Modifiers(expectedLse), options);
            layer.Forward(query, self, Batch, nq, Modifiers(selfLse), options);
            AssertClose(expected, self, context + ", self");
            AssertClose(expectedLse, selfLse, context + ", self, log-sum-exp");
        }
    }

    [Fact]
    public void Forward_WithNoKeys_WritesTheOutputBiasAndTheSinksLogSumExp()
    {
        var layer = RandomLayer();
        float[] query = new float[Batch * 3 * ModelDim];
        new DeterministicRandom(3).Fill(query, -1, 1);
        float[] expected = new float[query.Length], actual = new float[query.Length];
        float[] expectedLse = new float[Batch * Heads * 3], actualLse = new float[expectedLse.Length];
        NaiveMultiHeadAttention.Forward(layer, query, [], expected, Batch, 3, 0, new AttentionModifiers { Sinks = s_sinks, LogSumExp = expectedLse });
        layer.Forward(query, [], actual, Batch, 3, 0, new AttentionModifiers { Sinks = s_sinks, LogSumExp = actualLse });
        AssertClose(expected, actual, "no keys");
        Assert.Equal(expectedLse, actualLse);
        for (int r = 0; r < actualLse.Length; r++)
        {
            Assert.Equal(s_sinks[r / 3 % Heads], actualLse[r]);
        }
    }

    [Theory]
    [InlineData(KvCacheStorage.Single)]
    [InlineData(KvCacheStorage.Half)]
    public void Forward_WithACache_PrefillThenDecode_MatchesOneCausalPass(KvCacheStorage storage)
    {
        const int prefill = 6, total = 11;
        var layer = RandomLayer();
        float[] input = new float[Batch * total * ModelDim];
        new DeterministicRandom(17).Fill(input, -1, 1);
        var options = new AttentionOptions { IsCausal = true };
        float[] expected = new float[input.Length], expectedLse = new float[Batch * Heads * total];
        NaiveMultiHeadAttention.Forward(layer, input, input, expected, Batch, total, total,
                                        new AttentionModifiers { AlibiSlopes = s_slopes, Sinks = s_sinks, LogSumExp = expectedLse }, options);

        var cache = new KvCache(total, KvHeads, HeadDim, ValueDim, Batch, storage);
        for (int first = 0; first < total; first = first == 0 ? prefill : first + 1)
        {
            int count = first == 0 ? prefill : 1;
            float[] step = new float[Batch * count * ModelDim], output = new float[step.Length], lse = new float[Batch * Heads * count];
            for (int b = 0; b < Batch; b++)
            {
                input.AsSpan((b * total + first) * ModelDim, count * ModelDim).CopyTo(step.AsSpan(b * count * ModelDim));
            }

            layer.Forward(step, output, Batch, count, cache, new AttentionModifiers { AlibiSlopes = s_slopes, Sinks = s_sinks, LogSumExp = lse }, options);
            double tolerance = storage == KvCacheStorage.Single ? 1e-4 : 3e-3;
            for (int b = 0; b < Batch; b++)
            {
                for (int n = 0; n < count * ModelDim; n++)
                {
                    float e = expected[(b * total + first) * ModelDim + n], a = output[b * count * ModelDim + n];
                    Assert.True(Math.Abs(e - a) <= tolerance + tolerance * Math.Abs(e), $"{storage}, step at {first}, b={b}, element {n}: expected {e}, actual {a}");
                }

                for (int h = 0; h < Heads; h++)
                {
                    for (int i = 0; i < count; i++)
                    {
                        float e = expectedLse[(b * Heads + h) * total + first + i], a = lse[(b * Heads + h) * count + i];
                        Assert.True(Math.Abs(e - a) <= tolerance + tolerance * Math.Abs(e), $"{storage}, step at {first}, b={b} h={h} i={i}, log-sum-exp: expected {e}, actual {a}");
                    }
                }
            }
        }
    }

    private static MultiHeadAttention RandomLayer()
    {
        var layer = MultiHeadAttention.CreateRandom(ModelDim, Heads, seed: 99, KvHeads, HeadDim, ValueDim, useBias: true);
        var random = new DeterministicRandom(5);
        random.Fill(layer.QueryBias, -0.5f, 0.5f);
        random.Fill(layer.KeyBias, -0.5f, 0.5f);
        random.Fill(layer.ValueBias, -0.5f, 0.5f);
        random.Fill(layer.OutputBias, -0.5f, 0.5f);
        return layer;
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            bool same = expected[i] == actual[i] || Math.Abs(expected[i] - actual[i]) <= 1e-4 + 1e-3 * Math.Abs(expected[i]);
            Assert.True(same, $"{what}: element {i}: expected {expected[i]}, actual {actual[i]}");
        }
    }
}
