using System.Globalization;
using SelfAttention.Kernels;
using SelfAttention.Reference;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Decode;

/// <summary>
/// The decode kernel with score modifiers (softcap, ALiBi), sinks and the log-sum-exp output, on every storage: the
/// kernel is run on a problem that reads stored Half, BFloat16 or Int8 (or float) keys and values, and compared with
/// the double reference over the same values widened to float, outputs and log-sum-exps alike
/// (<see cref="Tolerance.Magnitude1"/>). Shapes cover grouped-query lanes in fours, twos and ones (GQA, MQA, MHA),
/// head dims that are and are not whole vectors, and key counts that end inside a block of eight rows. The
/// resolution is asserted to be the decode kernel. Runs at every SIMD width (DOTNET_EnableAVX512=0,
/// DOTNET_EnableAVX2=0, DOTNET_EnableHWIntrinsic=0).
/// </summary>
public unsafe class DecodeModifierTests
{
    private const int Batch = 2;

    public static TheoryData<KvCacheStorage, int, int, int, int, int, int, string> Cases()
    {
        var data = new TheoryData<KvCacheStorage, int, int, int, int, int, int, string>();
        // heads, kvHeads, headDim, valueDim, keys, queryLength
        var shapes = new[] { (8, 2, 32, 32, 200, 1), (8, 2, 32, 24, 131, 3), (8, 1, 16, 16, 100, 2), (4, 4, 20, 12, 77, 1), (4, 2, 64, 64, 70, 8) };
        string[] features = ["softcap", "alibi", "sinks + lse", "alibi + softcap + sinks + lse + causal", "lse + window"];
        foreach (var storage in new[] { KvCacheStorage.Single, KvCacheStorage.Half, KvCacheStorage.BFloat16, KvCacheStorage.Int8 })
        {
            foreach (var (h, kvh, d, dv, n, nq) in shapes)
            {
                foreach (string feature in features)
                {
                    data.Add(storage, h, kvh, d, dv, n, nq, feature);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decode_WithModifiers_EqualsTheReferenceOverTheStoredValues(KvCacheStorage storage, int heads, int kvHeads, int headDim, int valueDim, int keys, int queryLength, string feature)
    {
        var rng = new Random(heads * 131 + keys * 7 + queryLength + feature.Length);
        float[] q = TestInputs.Uniform(rng, Batch * queryLength * heads * headDim, 1f);
        var (storedK, scalesK, wideK) = Store(storage, rng, Batch * keys, kvHeads, headDim, 2f);
        var (storedV, scalesV, wideV) = Store(storage, rng, Batch * keys, kvHeads, valueDim, 1f);
        float[] slopes = new float[heads], sinks = new float[heads];
        for (int h = 0; h < heads; h++)
        {
            slopes[h] = MathF.Pow(2f, -(h + 1));
            sinks[h] = (float)(rng.NextDouble() * 4 - 1);
        }

        bool alibi = feature.Contains("alibi", StringComparison.Ordinal), sink = feature.Contains("sinks", StringComparison.Ordinal);
        bool lse = feature.Contains("lse", StringComparison.Ordinal);
        var options = new AttentionOptions
        {
            SoftCap = feature.Contains("softcap", StringComparison.Ordinal) ? 1.5f : null,
            IsCausal = feature.Contains("causal", StringComparison.Ordinal) || feature.Contains("window", StringComparison.Ordinal),
            Window = feature.Contains("window", StringComparison.Ordinal) ? new AttentionWindow(50, 0) : null,
            Kernel = AttentionKernel.Decode,
        };
        var shape = new AttentionShape(Batch, queryLength, keys, heads, headDim) { KvHeads = kvHeads, ValueDim = valueDim };
        float[] expected = new float[Batch * queryLength * heads * valueDim], expectedLse = new float[Batch * heads * queryLength];
        NaiveAttention.ComputeMultiHead(q, wideK, wideV, expected, shape,
                                        new AttentionModifiers { AlibiSlopes = alibi ? slopes : default, Sinks = sink ? sinks : default, LogSumExp = lse ? expectedLse : default },
                                        options);

        float[] actual = new float[expected.Length], actualLse = new float[expectedLse.Length];
        actual.AsSpan().Fill(-7f);
        actualLse.AsSpan().Fill(-7f);
        float scale = 1f / MathF.Sqrt(headDim);
        fixed (float* pq = q, po = actual, pSlopes = slopes, pSinks = sinks, pLse = actualLse, kScales = scalesK, vScales = scalesV, kFloat = wideK, vFloat = wideV)
        fixed (byte* k = storedK, v = storedV)
        {
            bool single = storage == KvCacheStorage.Single;
            var problem = AttentionProblem.Create(pq, heads * headDim, single ? kFloat : null, kvHeads * headDim, single ? vFloat : null, kvHeads * valueDim,
                                                  po, heads * valueDim, Batch, heads, kvHeads, queryLength, keys, keys, headDim, valueDim, scale, options)
                with
                {
                    Storage = storage,
                    KeyStored = single ? null : k, ValueStored = single ? null : v,
                    KeyScales = storage == KvCacheStorage.Int8 ? kScales : null, ValueScales = storage == KvCacheStorage.Int8 ? vScales : null,
                    AlibiSlopes = alibi ? pSlopes : null, Sinks = sink ? pSinks : null, LogSumExp = lse ? pLse : null,
                };
            Assert.Equal(KernelChoice.Decode, KernelDispatch.Resolve(problem, AttentionKernel.Decode).Kernel);
            KernelDispatch.Run(problem, AttentionKernel.Decode, 1);
        }

        string context = string.Create(CultureInfo.InvariantCulture, $"{storage} {feature} H={heads} KvH={kvHeads} d={headDim} dv={valueDim} n={keys} nq={queryLength}, {SimdWidth.Name}");
        Oracle.AssertClose(expected, actual, Batch * queryLength, heads * valueDim, Tolerance.Magnitude1, context);
        if (lse)
        {
            Oracle.AssertClose(expectedLse, actualLse, Batch * heads, queryLength, Tolerance.Magnitude1, context + ", log-sum-exp");
        }
        else
        {
            Assert.All(actualLse, x => Assert.Equal(-7f, x));
        }
    }

    /// <summary>
    /// Random rows <c>[rows, kvHeads·width]</c> in a storage: the stored bytes (Half or BFloat16 bits, Int8 values; empty for float),
    /// the Int8 scales <c>[rows, kvHeads·blocks]</c> (empty otherwise) and the stored values widened to float.
    /// </summary>
    private static (byte[] Stored, float[] Scales, float[] Wide) Store(KvCacheStorage storage, Random rng, int rows, int kvHeads, int width, float magnitude)
    {
        int count = rows * kvHeads * width;
        float[] wide = TestInputs.Uniform(rng, count, magnitude);
        switch (storage)
        {
            case KvCacheStorage.Half:
            {
                var bits = new ushort[count];
                for (int e = 0; e < count; e++)
                {
                    bits[e] = BitConverter.HalfToUInt16Bits((Half)wide[e]);
                    wide[e] = (float)BitConverter.UInt16BitsToHalf(bits[e]);
                }

                return (System.Runtime.InteropServices.MemoryMarshal.AsBytes(bits.AsSpan()).ToArray(), [], wide);
            }

            case KvCacheStorage.BFloat16:
            {
                var bits = new ushort[count];
                for (int e = 0; e < count; e++)
                {
                    bits[e] = (ushort)(BitConverter.SingleToUInt32Bits(wide[e]) >> 16);
                    wide[e] = BitConverter.UInt32BitsToSingle((uint)bits[e] << 16);
                }

                return (System.Runtime.InteropServices.MemoryMarshal.AsBytes(bits.AsSpan()).ToArray(), [], wide);
            }

            case KvCacheStorage.Int8:
            {
                int blocks = Widen.Int8Blocks(width);
                var bytes = new sbyte[count];
                var scales = new float[rows * kvHeads * blocks];
                for (int s = 0; s < scales.Length; s++)
                {
                    scales[s] = (float)(rng.NextDouble() * 0.03 + 0.001);
                }

                for (int e = 0; e < count; e++)
                {
                    int head = e / width, c = e % width;
                    bytes[e] = (sbyte)rng.Next(-127, 128);
                    wide[e] = bytes[e] * scales[head * blocks + c / Widen.Int8Block];
                }

                return ((byte[])(Array)bytes, scales, wide);
            }

            default:
                return ([], [], wide);
        }
    }
}
