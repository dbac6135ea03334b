using SelfAttention.Kernels;
using SelfAttention.Reference;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Decode;

/// <summary>
/// Low-precision KV caches (Half, BFloat16, Int8) and the decode kernel that reads them in place.
/// <para>
/// Two separate claims. The kernel: on any storage, <see cref="KvCache.Attend"/> equals float attention (the double
/// reference) over the widened stored values (<see cref="KvCache.CopyStored"/>), to float rounding (abs 1e-5 + rel
/// 1e-5), for GQA, MQA and MHA layouts, 1 to 8 query rows (and a prefill of 9), head dims that are and are not whole
/// vectors and whole Int8 blocks, causal or not, with a window. The storage: the widened values are within the
/// format's rounding of what was appended (Half 2⁻¹¹ relative, BFloat16 2⁻⁹, Int8 half a step of its block's scale).
/// The widening itself is checked against the runtime's conversions on every 16-bit pattern. The suite runs at every
/// SIMD width (DOTNET_EnableAVX512=0, DOTNET_EnableAVX2=0, DOTNET_EnableHWIntrinsic=0).
/// </para>
/// </summary>
public class LowPrecisionCacheTests
{
    public static TheoryData<KvCacheStorage, int, int, int, int, int, int> Cases()
    {
        var data = new TheoryData<KvCacheStorage, int, int, int, int, int, int>();
        // heads, kvHeads, headDim, valueDim, cached, queryLength
        var shapes = new[]
        {
            (8, 2, 32, 32, 200, 1), (8, 2, 32, 32, 200, 2), (8, 1, 16, 24, 130, 3), (4, 4, 20, 12, 150, 4),
            (6, 3, 64, 64, 70, 5), (8, 8, 8, 8, 65, 8), (4, 2, 40, 40, 257, 7), (4, 1, 33, 17, 100, 6), (4, 2, 32, 32, 90, 9),
        };
        foreach (var storage in new[] { KvCacheStorage.Single, KvCacheStorage.Half, KvCacheStorage.BFloat16, KvCacheStorage.Int8 })
        {
            foreach (var (h, kvh, d, dv, n, nq) in shapes)
            {
                data.Add(storage, h, kvh, d, dv, n, nq);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Attend_EqualsFloatAttentionOverTheStoredValues(KvCacheStorage storage, int heads, int kvHeads, int headDim, int valueDim, int cached, int queryLength)
    {
        const int batch = 2;
        var rng = new Random(heads * 31 + cached + queryLength);
        float[] keys = TestInputs.Uniform(rng, batch * cached * kvHeads * headDim, 2f);
        float[] values = TestInputs.Uniform(rng, batch * cached * kvHeads * valueDim, 1f);
        float[] query = TestInputs.Uniform(rng, batch * queryLength * heads * headDim, 1f);
        var cache = new KvCache(cached + 5, kvHeads, headDim, valueDim, batch, storage);
        cache.Append(keys, values, cached);
        float[] storedKeys = new float[keys.Length], storedValues = new float[values.Length];
        for (int b = 0; b < batch; b++)
        {
            cache.CopyStored(b, cached, storedKeys.AsSpan(b * cached * kvHeads * headDim), storedValues.AsSpan(b * cached * kvHeads * valueDim));
        }

        var shape = new AttentionShape(batch, queryLength, cached, heads, headDim) { KvHeads = kvHeads, ValueDim = valueDim };
        foreach (var options in new AttentionOptions[] { default, new() { IsCausal = true }, new() { IsCausal = true, Window = new AttentionWindow(40, 0) } })
        {
            float[] actual = new float[batch * queryLength * heads * valueDim];
            cache.Attend(query, actual, heads, queryLength, options);
            float[] expected = new float[actual.Length];
            NaiveAttention.ComputeMultiHead(query, storedKeys, storedValues, expected, shape, options);
            AssertClose(expected, actual, 1e-5, $"{storage} H={heads} KvH={kvHeads} d={headDim} dv={valueDim} n={cached} nq={queryLength} causal={options.IsCausal} window={options.Window}");
        }

        AssertStorageError(storage, keys, storedKeys, headDim);
        AssertStorageError(storage, values, storedValues, valueDim);
    }

    [Fact]
    public void HalfWidening_MatchesTheRuntimeOnEveryBitPattern()
    {
        ushort[] bits = new ushort[1 << 16];
        for (int i = 0; i < bits.Length; i++)
        {
            bits[i] = (ushort)i;
        }

        float[] half = new float[bits.Length + 3], bf16 = new float[bits.Length + 3];
        half[^1] = bf16[^1] = 12345f;
        unsafe
        {
            fixed (ushort* source = bits)
            fixed (float* h = half, b = bf16)
            {
                // Odd counts and offsets exercise the vector loops' tails.
                Widen.Half(source, 1, h);
                Widen.Half(source + 1, bits.Length - 1, h + 1);
                Widen.BFloat16(source, 7, b);
                Widen.BFloat16(source + 7, bits.Length - 7, b + 7);
            }
        }

        for (int i = 0; i < bits.Length; i++)
        {
            float expectedHalf = (float)BitConverter.UInt16BitsToHalf((ushort)i);
            float expectedBf16 = BitConverter.UInt32BitsToSingle((uint)i << 16);
            Assert.True(expectedHalf.Equals(half[i]) && BitConverter.SingleToUInt32Bits(expectedHalf) == BitConverter.SingleToUInt32Bits(half[i]) || float.IsNaN(expectedHalf) && float.IsNaN(half[i]),
                $"Half 0x{i:X4}: expected {expectedHalf}, actual {half[i]}");
            Assert.Equal(BitConverter.SingleToUInt32Bits(expectedBf16), BitConverter.SingleToUInt32Bits(bf16[i]));
        }

        Assert.Equal(12345f, half[^1]);
        Assert.Equal(12345f, bf16[^1]);
    }

    [Theory]
    [InlineData(KvCacheStorage.Half)]
    [InlineData(KvCacheStorage.BFloat16)]
    [InlineData(KvCacheStorage.Int8)]
    public void Outliers_StayWithinTheFormatsError(KvCacheStorage storage)
    {
        // Keys with a few large channels (as in real models: a handful of channels 20–100× the rest).
        const int tokens = 64, kvHeads = 2, headDim = 64;
        var rng = new Random(5);
        float[] keys = TestInputs.Uniform(rng, tokens * kvHeads * headDim, 1f);
        for (int t = 0; t < tokens; t++)
        {
            keys[t * kvHeads * headDim + 3] *= 60f;
            keys[t * kvHeads * headDim + headDim + 40] *= 100f;
        }

        var cache = new KvCache(tokens, kvHeads, headDim, storage: storage);
        cache.Append(keys, keys, tokens);
        float[] stored = new float[keys.Length], storedValues = new float[keys.Length];
        cache.CopyStored(0, tokens, stored, storedValues);
        AssertStorageError(storage, keys, stored, headDim);
    }

    [Fact]
    public void Int8_NonFiniteValue_MakesItsBlockNaN_AndZeroBlocksStayZero()
    {
        const int headDim = 64;
        float[] keys = new float[headDim];
        keys[5] = float.NaN;     // block 0
        float[] values = new float[headDim]; // all zero: scale 0
        var cache = new KvCache(2, 1, headDim, storage: KvCacheStorage.Int8);
        cache.Append(keys, values, 1);
        float[] k = new float[headDim], v = new float[headDim];
        cache.CopyStored(0, 1, k, v);
        Assert.All(k[..32], x => Assert.True(float.IsNaN(x)));
        Assert.All(k[32..], x => Assert.Equal(0f, x));
        Assert.All(v, x => Assert.Equal(0f, x));
    }

    /// <summary>Each stored value within its format's rounding of the appended one.</summary>
    internal static void AssertStorageError(KvCacheStorage storage, float[] original, float[] stored, int width)
    {
        for (int e = 0; e < original.Length; e++)
        {
            double x = original[e], y = stored[e];
            double bound = storage switch
            {
                KvCacheStorage.Single => 0,
                KvCacheStorage.Half => Math.Abs(x) * Math.Pow(2, -11) + Math.Pow(2, -25),
                KvCacheStorage.BFloat16 => Math.Abs(x) * Math.Pow(2, -8),
                _ => BlockMax(original, e, width) / 254 * 1.0001 + 1e-30,
            };
            Assert.True(Math.Abs(x - y) <= bound, $"{storage}: element {e} appended {x}, stored {y}, error {Math.Abs(x - y)} above {bound}");
        }
    }

    private static double BlockMax(float[] data, int e, int width)
    {
        int start = e - e % width + (e % width) / Widen.Int8Block * Widen.Int8Block;
        int end = Math.Min(start + Widen.Int8Block, e - e % width + width);
        double max = 0;
        for (int i = start; i < end; i++)
        {
            max = Math.Max(max, Math.Abs(data[i]));
        }

        return max;
    }

    internal static void AssertClose(float[] expected, float[] actual, double tolerance, string context)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(float.IsFinite(actual[i]), $"{context}: element {i} is {actual[i]}");
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance + tolerance * Math.Abs(expected[i]),
                $"{context}: element {i} expected {expected[i]}, actual {actual[i]}");
        }
    }
}
