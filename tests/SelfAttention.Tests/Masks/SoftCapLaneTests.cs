using System.Runtime.Intrinsics;
using SelfAttention.Kernels;
using SelfAttention.Kernels.Masks;
using Xunit;

namespace SelfAttention.Tests.Masks;

/// <summary>
/// The softcap's float form (<c>cap·tanh(s/cap)</c> as a clamped rational function) against <see cref="Math.Tanh"/> at every width the
/// CPU runs, and the split of a modifier chain into a lane step (applied to the score registers by the tiled kernel)
/// and the rest: lane step then rest equals the whole tile modification, bit for bit, for every chain the dispatcher builds.
/// </summary>
public unsafe class SoftCapLaneTests
{
    /// <summary>
    /// Relative bound on cap·tanh: the rational form's own worst error as evaluated in float, 3.3e-7 fused or unfused
    /// (scripts/fit-softcap-tanh.cs), plus half an ulp each for x = s·(1/cap) (tanh's relative sensitivity to x is below
    /// 1) and the final multiply by cap: 4.5e-7, under 6e-7.
    /// </summary>
    private const double MaxRelativeError = 6e-7;

    private static float[] Scores()
    {
        var xs = new List<float>();
        for (int index = -40_000; index <= 40_000; index++)
        {
            xs.Add(index * 5e-3f);                       // [−200, 200]: both sides of the cap, the linear part near 0
        }

        foreach (float tiny in new[] { 1e-30f, 1e-10f, 1e-5f, float.Epsilon, 0f, 1e20f, 3e38f })
        {
            xs.Add(tiny);
            xs.Add(-tiny);
        }

        return xs.ToArray();
    }

    private static float[] Capped<TV, TOps>(float[] s, float cap)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count;
        float[] padded = new float[(s.Length + w - 1) / w * w];
        s.CopyTo(padded, 0);
        fixed (float* p = padded)
        {
            for (int n = 0; n < padded.Length; n += w)
            {
                TOps.Store(SoftCapMask.Capped<TV, TOps>(TOps.Load(ref p[0], (nuint)n), cap, 1f / cap), ref p[0], (nuint)n);
            }
        }

        return padded[..s.Length];
    }

    private static void AssertClose(float[] s, float[] actual, float cap, string width)
    {
        double worst = 0;
        float worstAt = 0;
        for (int n = 0; n < s.Length; n++)
        {
            double expected = cap * Math.Tanh((double)s[n] / cap);
            double error = Math.Abs(actual[n] - expected) / Math.Max(Math.Abs(expected), 1e-38);
            if (error > worst)
            {
                (worst, worstAt) = (error, s[n]);
            }
        }

        Assert.True(worst <= MaxRelativeError, $"{width}, cap {cap}: worst relative error {worst:G3} at s = {worstAt:R} > {MaxRelativeError:G3}.");
    }

    [Theory]
    [InlineData(50f)]
    [InlineData(30f)]
    [InlineData(1f)]
    [InlineData(1e-3f)]
    public void Capped_IsWithinAFewUlpsOfTanh_AtEveryWidth(float cap)
    {
        float[] s = Scores();
        AssertClose(s, Capped<float, ScalarOps>(s, cap), cap, "scalar");
        if (Vector128.IsHardwareAccelerated)
        {
            AssertClose(s, Capped<Vector128<float>, Vector128Ops>(s, cap), cap, "128-bit");
        }

        if (Vector256.IsHardwareAccelerated)
        {
            AssertClose(s, Capped<Vector256<float>, Vector256Ops>(s, cap), cap, "256-bit");
        }

        if (Vector512.IsHardwareAccelerated)
        {
            AssertClose(s, Capped<Vector512<float>, Vector512Ops>(s, cap), cap, "512-bit");
        }
    }

    [Theory]
    [InlineData(50f)]
    [InlineData(1f)]
    [InlineData(1e-3f)]
    [InlineData(3e5f)]
    public void Capped_KeepsNaN_AndCapsInfinitiesExactly_AtEveryWidth(float cap)
    {
        float[] s = { float.NaN, float.PositiveInfinity, float.NegativeInfinity, 3e38f, -3e38f, -0f };
        var results = new List<(string Width, float[] Actual)> { ("scalar", Capped<float, ScalarOps>(s, cap)) };
        if (Vector128.IsHardwareAccelerated) results.Add(("128-bit", Capped<Vector128<float>, Vector128Ops>(s, cap)));
        if (Vector256.IsHardwareAccelerated) results.Add(("256-bit", Capped<Vector256<float>, Vector256Ops>(s, cap)));
        if (Vector512.IsHardwareAccelerated) results.Add(("512-bit", Capped<Vector512<float>, Vector512Ops>(s, cap)));
        foreach ((string width, float[] actual) in results)
        {
            Assert.True(float.IsNaN(actual[0]), $"{width}, cap {cap}: NaN gave {actual[0]}");
            Assert.Equal(cap, actual[1]);
            Assert.Equal(-cap, actual[2]);
            Assert.Equal(cap, actual[3]);
            Assert.Equal(-cap, actual[4]);
            Assert.True(actual[5] == 0 && float.IsNegative(actual[5]), $"{width}, cap {cap}: −0 gave {actual[5]:R}");
        }
    }

    private static bool Lanes<T>() where T : unmanaged, IAttentionMask<T> => T.ModifiesLanes;

    private static bool After<T>() where T : unmanaged, IAttentionMask<T> => T.ModifiesTileAfterLanes;

    [Fact]
    public void Chains_LeadWithTheSoftCap_OnlyWhenItComesFirst()
    {
        Assert.True(Lanes<SoftCapMask>());
        Assert.False(After<SoftCapMask>());
        Assert.False(Lanes<AlibiMask>());
        Assert.True(After<AlibiMask>());
        Assert.False(Lanes<NoMask>());
        Assert.False(After<NoMask>());
        Assert.False(Lanes<CausalMask>());
        Assert.False(After<CausalMask>());

        Assert.True(Lanes<And<SoftCapMask, CausalMask>>());
        Assert.False(After<And<SoftCapMask, CausalMask>>());
        Assert.True(Lanes<And<SoftCapMask, AlibiMask>>());
        Assert.True(After<And<SoftCapMask, AlibiMask>>());
        Assert.True(Lanes<And<And<SoftCapMask, AlibiMask>, BooleanMask>>());
        Assert.True(After<And<And<SoftCapMask, AlibiMask>, BooleanMask>>());

        // A modifier before the softcap keeps the order: nothing is hoisted into the registers.
        Assert.False(Lanes<And<AlibiMask, SoftCapMask>>());
        Assert.True(After<And<AlibiMask, SoftCapMask>>());

        // A mask that does not modify lets the next one lead.
        Assert.True(Lanes<And<CausalMask, SoftCapMask>>());
        Assert.False(After<And<CausalMask, SoftCapMask>>());
    }

    private static void AssertSplitEqualsWhole<TMask, TV, TOps>(TMask mask, int queryLength, int keyLength, string name)
        where TMask : unmanaged, IAttentionMask<TMask> where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, bq = 4 * w, keys = Math.Min(keyLength, 37);
        var random = new Random(11);
        float[] original = new float[keys * bq];
        for (int n = 0; n < original.Length; n++)
        {
            original[n] = (float)(random.NextDouble() * 160 - 80);
        }

        float[] whole = (float[])original.Clone(), split = (float[])original.Clone();
        int rows = Math.Min(bq, queryLength), i0 = queryLength - rows, j0 = keyLength - keys;
        fixed (float* a = whole, b = split)
        {
            mask.ModifyTile<TV, TOps>(a, bq, i0, rows, j0, keys);
            for (int n = 0; n < split.Length; n += w)
            {
                TOps.Store(TMask.ModifyLanes<TV, TOps>(mask, TOps.Load(ref b[0], (nuint)n)), ref b[0], (nuint)n);
            }

            TMask.ModifyTileAfterLanes<TV, TOps>(mask, b, bq, i0, rows, j0, keys);
        }

        for (int j = 0; j < keys; j++)
        {
            for (int r = 0; r < rows; r++)
            {
                float x = whole[j * bq + r], y = split[j * bq + r];
                Assert.True(BitConverter.SingleToInt32Bits(x) == BitConverter.SingleToInt32Bits(y),
                            $"{name}, {TOps.Count} lanes: row {i0 + r}, key {j0 + j}: whole {x:R}, lane step then the rest {y:R}");
            }
        }
    }

    private static void AssertSplitEqualsWhole<TMask>(TMask mask, int queryLength, int keyLength, string name)
        where TMask : unmanaged, IAttentionMask<TMask>
    {
        AssertSplitEqualsWhole<TMask, float, ScalarOps>(mask, queryLength, keyLength, name);
        AssertSplitEqualsWhole<TMask, Vector128<float>, Vector128Ops>(mask, queryLength, keyLength, name);
        if (Vector256.IsHardwareAccelerated)
        {
            AssertSplitEqualsWhole<TMask, Vector256<float>, Vector256Ops>(mask, queryLength, keyLength, name);
        }

        if (Vector512.IsHardwareAccelerated)
        {
            AssertSplitEqualsWhole<TMask, Vector512<float>, Vector512Ops>(mask, queryLength, keyLength, name);
        }
    }

    [Fact]
    public void LaneStepThenRest_EqualsTheWholeModification()
    {
        const int queryLength = 70, keyLength = 90;
        float[] slopes = { 0.25f };
        var random = new Random(5);
        float[] additive = new float[queryLength * keyLength];
        bool[] boolean = new bool[queryLength * keyLength];
        for (int n = 0; n < additive.Length; n++)
        {
            additive[n] = random.Next(5) == 0 ? float.NegativeInfinity : (float)random.NextDouble();
            boolean[n] = random.Next(3) != 0;
        }

        var layout = new DenseMaskLayout(0, 0, keyLength, 1);
        var frame = new SequenceFrame(queryLength, keyLength);
        fixed (float* s = slopes, add = additive)
        fixed (bool* bits = boolean)
        {
            var cap = new SoftCapMask(30f, keyLength);
            var alibi = AlibiMask.Create(s, frame);
            var dense = new AdditiveMask(add, layout, keyLength);
            var flags = new BooleanMask((byte*)bits, layout, keyLength);
            var causal = CausalMask.Create(CausalAlignment.BottomRight, frame);
            AssertSplitEqualsWhole(cap, queryLength, keyLength, "softcap");
            AssertSplitEqualsWhole(alibi, queryLength, keyLength, "ALiBi");
            AssertSplitEqualsWhole(new And<SoftCapMask, AlibiMask>(cap, alibi), queryLength, keyLength, "softcap, ALiBi");
            AssertSplitEqualsWhole(new And<And<SoftCapMask, AlibiMask>, AdditiveMask>(new(cap, alibi), dense), queryLength, keyLength, "softcap, ALiBi, additive");
            AssertSplitEqualsWhole(new And<And<SoftCapMask, BooleanMask>, CausalMask>(new(cap, flags), causal), queryLength, keyLength, "softcap, boolean, causal");
            AssertSplitEqualsWhole(new And<AlibiMask, SoftCapMask>(alibi, cap), queryLength, keyLength, "ALiBi, softcap");
            AssertSplitEqualsWhole(new And<CausalMask, SoftCapMask>(causal, cap), queryLength, keyLength, "causal, softcap");
        }
    }
}
