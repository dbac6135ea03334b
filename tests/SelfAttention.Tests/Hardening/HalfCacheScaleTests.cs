using Xunit;

namespace SelfAttention.Tests.Hardening;

/// <summary>
/// A Half KV cache takes the exact path past <c>scale·headDim</c> = 2¹¹⁰ as float storage does. Here the float products
/// of a query of 1.3·2⁻¹²⁶ with Half keys of 2⁻²⁴ and 2·2⁻²⁴ are 0.65·2⁻¹⁴⁹ and 1.3·2⁻¹⁴⁹, and float rounds both to
/// 2⁻¹⁴⁹; the scale 2¹²⁷ then lifts them to scores that differ by 1.3·2⁻¹⁷ exactly, and by 0 in float. The output,
/// w₀ − w₁ ≈ −(s₁ − s₀)/2 ≈ −5e-6, must be the exact one, not 0.
/// </summary>
public class HalfCacheScaleTests
{
    [Theory]
    [InlineData(KvCacheStorage.Single)]
    [InlineData(KvCacheStorage.Half)]
    public void HugeScaleOverSubnormalProducts_MatchesTheExactSoftmax(KvCacheStorage storage)
    {
        const int d = 64, keys = 2;
        float q = 1.3f * MathF.ScaleB(1f, -126), k0 = MathF.ScaleB(1f, -24), k1 = 2 * k0;
        float[] query = Enumerable.Repeat(q, d).ToArray();
        float[] key = [.. Enumerable.Repeat(k0, d), .. Enumerable.Repeat(k1, d)];
        float[] value = [1f, -1f];
        var cache = new KvCache(keys, kvHeads: 1, headDim: d, valueDim: 1, storage: storage);
        cache.Append(key, value, keys);
        float scale = MathF.ScaleB(1f, 127);
        var output = new float[1];
        cache.Attend(query, output, heads: 1, queryLength: 1, new AttentionOptions { Scale = scale });

        double s0 = d * (double)q * k0 * scale, s1 = d * (double)q * k1 * scale;
        double w0 = 1 / (1 + Math.Exp(s1 - s0)), expected = w0 - (1 - w0);
        Assert.True(Math.Abs(output[0] - expected) <= 1e-7, $"{storage}: output {output[0]:R}, exact {expected:R}.");
    }
}
