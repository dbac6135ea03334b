using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SelfAttention.Kernels;
using SelfAttention.Reference;
using Xunit;

namespace SelfAttention.Tests.Decode;

/// <summary>
/// The decode kernels' fast paths, each against the exact rule it replaces:
/// <list type="bullet">
/// <item>the finite-Half widening (<see cref="Widen.HalfFiniteVector{TV}"/>, four operations) equals the runtime's
/// Half → float conversion bit for bit on every finite 16-bit pattern, at the width the process runs (the suite runs at
/// every width: DOTNET_EnableAVX512=0, DOTNET_EnableAVX2=0, DOTNET_EnableHWIntrinsic=0), at every tested width
/// explicitly where accelerated;</item>
/// <item>a Half cache takes it only while it holds no ±∞/NaN: one appended overflow sends it back to the full widening
/// (∞ and NaN propagate as in float attention), and emptying the cache brings the fast path back;</item>
/// <item>the sixteen-vector reduction tree of the four-lane × four-row score kernel
/// (<see cref="Vector512Ops.SumsOfSixteen"/>) puts each vector's sum in its quarter and lane.</item>
/// </list>
/// </summary>
public class DecodeFastPathTests
{
    [Fact]
    public unsafe void HalfFiniteWidening_MatchesTheRuntimeOnEveryFinitePattern_AtEveryWidth()
    {
        ushort[] bits = new ushort[1 << 16];
        for (int i = 0; i < bits.Length; i++)
        {
            bits[i] = (ushort)i;
        }

        float[] widened = new float[16];
        fixed (ushort* source = bits)
        fixed (float* d = widened)
        {
            for (int i = 0; i < bits.Length; i += 16)
            {
                // One block of sixteen patterns per width; patterns with exponent 31 (±∞, NaN) are outside the contract.
                foreach (int width in new[] { 16, 8, 4, 1 })
                {
                    if (WidenBlock(source + i, d, width))
                    {
                        Check(i, width);
                    }
                }
            }
        }

        void Check(int first, int width)
        {
            for (int t = 0; t < 16; t++)
            {
                int pattern = first + t;
                if ((pattern & 0x7C00) == 0x7C00)
                {
                    continue;
                }

                float expected = (float)BitConverter.UInt16BitsToHalf((ushort)pattern);
                Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(widened[t]),
                    $"width {width}, Half 0x{pattern:X4}: expected {expected}, actual {widened[t]}");
            }
        }
    }

    // Sixteen Half patterns at source widened at one width into d; false when the width is not accelerated here.
    private static unsafe bool WidenBlock(ushort* source, float* d, int width)
    {
        switch (width)
        {
            case 16 when Vector512.IsHardwareAccelerated:
                Widen.HalfFiniteVector<Vector512<float>>(source).Store(d);
                return true;
            case 8 when Vector256.IsHardwareAccelerated:
                Widen.HalfFiniteVector<Vector256<float>>(source).Store(d);
                Widen.HalfFiniteVector<Vector256<float>>(source + 8).Store(d + 8);
                return true;
            case 4 when Vector128.IsHardwareAccelerated:
                for (int part = 0; part < 16; part += 4)
                {
                    Widen.HalfFiniteVector<Vector128<float>>(source + part).Store(d + part);
                }

                return true;
            case 1:
                for (int part = 0; part < 16; part++)
                {
                    d[part] = Widen.HalfFiniteVector<float>(source + part);
                }

                return true;
            default:
                return false;
        }
    }

    [Fact]
    public void AnyNonFiniteHalf_FindsExponent31AnywhereInRaggedSpans()
    {
        foreach (int length in new[] { 0, 1, 3, 15, 16, 17, 63, 65, 129 })
        {
            ushort[] halves = new ushort[length];
            for (int c = 0; c < length; c++)
            {
                halves[c] = (ushort)(0x7BFF - c);   // large finite values
            }

            Assert.False(Widen.AnyNonFiniteHalf(halves), $"length {length}: all finite");
            for (int at = 0; at < length; at++)
            {
                foreach (ushort special in new ushort[] { 0x7C00, 0xFC00, 0x7E00, 0xFFFF })
                {
                    ushort kept = halves[at];
                    halves[at] = special;
                    Assert.True(Widen.AnyNonFiniteHalf(halves), $"length {length}: 0x{special:X4} at {at}");
                    halves[at] = kept;
                }
            }
        }
    }

    [Theory]
    [InlineData(8)]    // grouped-query: the four-lane kernels
    [InlineData(32)]   // multi-head
    public void HalfCache_LeavesTheFinitePath_OnAnOverflow_AndComesBackWhenEmptied(int kvHeads)
    {
        const int heads = 32, headDim = 64, tokens = 100;
        var random = new DeterministicRandom(71);
        var keys = new float[tokens * kvHeads * headDim];
        var values = new float[keys.Length];
        random.Fill(keys, -2f, 2f);
        random.Fill(values, -2f, 2f);
        var query = new float[heads * headDim];
        random.Fill(query, -1f, 1f);
        var options = new AttentionOptions { IsCausal = true };

        var cache = new KvCache(tokens, kvHeads, headDim, storage: KvCacheStorage.Half);
        cache.Append(keys, values, tokens);
        AssertEqualsFloatOverStored(cache, query, heads, options, "finite");

        // A value beyond Half's range is stored as ∞: its head's rows must come out non-finite, as float attention over ∞ does.
        cache.Truncate(tokens - 1);
        var last = values.AsSpan((tokens - 1) * kvHeads * headDim).ToArray();
        last[5] = 1e6f;
        cache.Append(keys.AsSpan((tokens - 1) * kvHeads * headDim).ToArray(), last, 1);
        var output = new float[query.Length];
        cache.Attend(query, output, heads, 1, options);
        int group = heads / kvHeads;
        for (int h = 0; h < group; h++)
        {
            // Channel 5 of kv head 0 is ∞ in the last token's value, which every query head of group 0 sees.
            Assert.True(float.IsInfinity(output[h * headDim + 5]) || float.IsNaN(output[h * headDim + 5]), $"head {h}: the ∞ value is not in channel 5");
        }

        // Empty again: finite values, fast path, equal to float attention over them.
        cache.Clear();
        cache.Append(keys, values, tokens);
        AssertEqualsFloatOverStored(cache, query, heads, options, "after Clear");
    }

    [Fact]
    public void SumsOfSixteen_PutsEachSumInItsQuarterAndLane()
    {
        if (!Avx512F.IsSupported)
        {
            return;   // the tree is AVX-512 only; narrower widths keep StoreSums (EightRowKernelTests)
        }

        var random = new DeterministicRandom(5);
        var a = new Vector512<float>[16];
        var expected = new double[16];
        for (int m = 0; m < 16; m++)
        {
            var lanes = new float[16];
            random.Fill(lanes, -1000f, 1000f);
            a[m] = Vector512.Create(lanes);
            expected[m] = lanes.Sum(x => (double)x);
        }

        Vector512<float> sums = Vector512Ops.SumsOfSixteen(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15]);
        for (int r = 0; r < 4; r++)
        {
            for (int t = 0; t < 4; t++)
            {
                // Argument a{r}{t} = a[4r + t] → quarter t, element r. Sixteen terms of at most 1000: float error ≤ 16·2⁻²⁴·16000.
                double want = expected[4 * r + t];
                Assert.True(Math.Abs(sums[4 * t + r] - want) <= 16 * 16000 * Math.Pow(2, -24), $"a{r}{t}: expected {want}, actual {sums[4 * t + r]}");
            }
        }
    }

    private static void AssertEqualsFloatOverStored(KvCache cache, float[] query, int heads, AttentionOptions options, string what)
    {
        int kvHeads = cache.KvHeads, headDim = cache.HeadDim, length = cache.Length;
        var storedKeys = new float[length * kvHeads * headDim];
        var storedValues = new float[storedKeys.Length];
        cache.CopyStored(0, length, storedKeys, storedValues);
        var shape = new AttentionShape(1, 1, length, heads, headDim) { KvHeads = kvHeads };
        var expected = new float[query.Length];
        NaiveAttention.ComputeMultiHead(query, storedKeys, storedValues, expected, shape, options);
        var output = new float[query.Length];
        cache.Attend(query, output, heads, 1, options);
        for (int e = 0; e < output.Length; e++)
        {
            // Float attention over the widened values, to float rounding: abs 1e-5 + rel 1e-5 (as LowPrecisionCacheTests).
            Assert.True(Math.Abs(output[e] - expected[e]) <= 1e-5 + 1e-5 * Math.Abs(expected[e]), $"{what}, element {e}: expected {expected[e]}, actual {output[e]}");
        }
    }
}
