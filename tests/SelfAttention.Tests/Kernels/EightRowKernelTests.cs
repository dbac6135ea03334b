using System.Runtime.Intrinsics;
using SelfAttention.Kernels;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Kernels;

/// <summary>
/// The decode kernel's eight-row building blocks, at every vector width the CPU runs: the four-way horizontal sum
/// <see cref="IFloatVector{TV}.StoreSums"/>, the eight-key scores <see cref="RowKernels.ScoresEightRows{TV, TOps}"/> and
/// the eight-row accumulate <see cref="RowKernels.MultiplyAddEightRows{TV, TOps}"/>, each against a double reference.
/// Rows sit in a buffer with a pitch wider than the row, sentinels in the gaps.
/// </summary>
public class EightRowKernelTests
{
    private const float Sentinel = -7777f;

    [Fact]
    public void Scalar() => AssertAll<float, ScalarOps>("scalar");

    [Fact]
    public void Vector128Width()
    {
        if (Vector128.IsHardwareAccelerated)
        {
            AssertAll<Vector128<float>, Vector128Ops>("Vector128");
        }
    }

    [Fact]
    public void Vector256Width()
    {
        if (Vector256.IsHardwareAccelerated)
        {
            AssertAll<Vector256<float>, Vector256Ops>("Vector256");
        }
    }

    [Fact]
    public void Vector512Width()
    {
        if (Vector512.IsHardwareAccelerated)
        {
            AssertAll<Vector512<float>, Vector512Ops>("Vector512");
        }
    }

    private static void AssertAll<TV, TOps>(string width)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        AssertStoreSums<TV, TOps>(width);
        foreach (int vectors in new[] { 1, 2, 3, 4, 8, 9 })
        {
            AssertScoresEightRows<TV, TOps>(width, vectors * TOps.Count);
        }

        foreach (int length in new[] { 0, 1, 3, 17, 63, 64, 65, 127, 128, 129 })
        {
            AssertMultiplyAddEightRows<TV, TOps>(width, length);
        }
    }

    // Lane l of vector t holds (t + 1)·(l + 1): each sum is exact in float, so any lane or vector mix-up shows exactly.
    private static void AssertStoreSums<TV, TOps>(string width)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int n = TOps.Count;
        float[] lanes = new float[4 * n];
        for (int t = 0; t < 4; t++)
        {
            for (int l = 0; l < n; l++)
            {
                lanes[t * n + l] = (t + 1) * (l + 1);
            }
        }

        float[] destination = [Sentinel, Sentinel, Sentinel, Sentinel, Sentinel, Sentinel];
        TOps.StoreSums(TOps.Load(ref lanes[0], 0), TOps.Load(ref lanes[0], (nuint)n), TOps.Load(ref lanes[0], (nuint)(2 * n)),
                       TOps.Load(ref lanes[0], (nuint)(3 * n)), 0.5f, ref destination[1]);
        for (int t = 0; t < 4; t++)
        {
            float expected = 0.5f * (t + 1) * n * (n + 1) / 2;
            Assert.True(expected == destination[1 + t], $"{width} StoreSums: sum {t} expected {expected}, actual {destination[1 + t]}.");
        }

        Assert.True(destination[0] == Sentinel && destination[5] == Sentinel, $"{width} StoreSums wrote outside its four floats.");
    }

    // scores[t] = (q·k_t)·scale; the bound is that of any float dot product: (d + 2)·u·Σ|q·k|·scale, plus the scaling.
    private static void AssertScoresEightRows<TV, TOps>(string width, int headDim)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        var rng = new Random(headDim);
        int pitch = headDim + 5;
        const float scale = 0.125f;
        float[] q = TestInputs.Uniform(rng, headDim, 3f);
        float[] k = new float[8 * pitch];
        Array.Fill(k, float.NaN); // the gaps: a read past a row would poison its score
        for (int t = 0; t < 8; t++)
        {
            TestInputs.Uniform(rng, headDim, 3f).CopyTo(k, t * pitch);
        }

        float[] scores = new float[10];
        Array.Fill(scores, Sentinel);
        RowKernels.ScoresEightRows<TV, TOps>(ref q[0], ref k[0], pitch, headDim, scale, ref scores[1]);
        for (int t = 0; t < 8; t++)
        {
            var (dot, absoluteSum) = PrimitiveReferences.Dot(q, k.AsSpan(t * pitch, headDim));
            double bound = (headDim + 3) * Tolerance.FloatRoundoff * absoluteSum * scale;
            double expected = dot * scale;
            Assert.True(Math.Abs(scores[1 + t] - expected) <= bound,
                $"{width} ScoresEightRows d={headDim}: key {t} expected {expected:R}, actual {scores[1 + t]:R}, bound {bound:G3}.");
        }

        Assert.True(scores[0] == Sentinel && scores[9] == Sentinel, $"{width} ScoresEightRows d={headDim} wrote outside its eight scores.");
    }

    // accumulator[c] += Σ_t a[t]·x_t[c]: nine float roundings per element at most, so 10·u·(|acc| + Σ|a·x|).
    private static void AssertMultiplyAddEightRows<TV, TOps>(string width, int length)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        var rng = new Random(1000 + length);
        int pitch = length + 3;
        float[] x = new float[8 * pitch + 1];
        Array.Fill(x, float.NaN);
        for (int t = 0; t < 8; t++)
        {
            TestInputs.Uniform(rng, length, 2f).CopyTo(x, t * pitch);
        }

        float[] a = TestInputs.Uniform(rng, 8, 1f);
        float[] start = TestInputs.Uniform(rng, length, 4f);
        float[] accumulator = new float[length + 2];
        accumulator[0] = accumulator[^1] = Sentinel;
        start.CopyTo(accumulator, 1);
        RowKernels.MultiplyAddEightRows<TV, TOps>(ref x[0], pitch, ref a[0], ref accumulator[1], length);
        for (int c = 0; c < length; c++)
        {
            double expected = start[c], magnitude = Math.Abs(start[c]);
            for (int t = 0; t < 8; t++)
            {
                expected += (double)a[t] * x[t * pitch + c];
                magnitude += Math.Abs((double)a[t] * x[t * pitch + c]);
            }

            double bound = 10 * Tolerance.FloatRoundoff * magnitude;
            Assert.True(Math.Abs(accumulator[1 + c] - expected) <= bound,
                $"{width} MultiplyAddEightRows length {length}: element {c} expected {expected:R}, actual {accumulator[1 + c]:R}, bound {bound:G3}.");
        }

        Assert.True(accumulator[0] == Sentinel && accumulator[^1] == Sentinel, $"{width} MultiplyAddEightRows length {length} wrote outside its row.");
    }
}
