using System.Runtime.Intrinsics;
using SelfAttention.Kernels;
using Xunit;

namespace SelfAttention.Tests.Kernels;

/// <summary>The polynomial float exp behind softmax, against <see cref="Math.Exp(double)"/>, at every vector width the CPU runs.</summary>
public class FastExpTests
{
    /// <summary>
    /// Relative error bound on [−87.33, 0]: 2e-7, the accuracy the design asks of the exp. The Cephes degree-5 polynomial
    /// after Cody–Waite reduction is accurate to about 1 ulp (2⁻²³ ≈ 1.2e-7 relative); measured here 8.2e-8 with FMA.
    /// </summary>
    private const double MaxRelativeError = 2e-7;

    /// <summary>The smallest normal float is e^−87.336; below that the kernel flushes to 0.</summary>
    private const float Underflow = -87.33654f;

    public static IEnumerable<float> Arguments()
    {
        // A dense grid over the domain plus the points where range reduction switches n (multiples of ln 2 / 2).
        for (int index = 0; index <= 200_000; index++)
        {
            yield return Underflow * index / 200_000f;
        }

        for (int n = 0; n < 252; n++)
        {
            float x = -n * 0.34657359f;
            yield return x;
            yield return MathF.BitIncrement(x);
            yield return MathF.BitDecrement(x);
        }

        yield return -1e-30f;
        yield return -float.Epsilon;
        yield return -0f;
    }

    [Fact]
    public void Scalar_IsWithinTwoUlpsOfMathExp()
    {
        double worst = 0;
        float worstAt = 0;
        foreach (float x in Arguments().Where(x => x >= Underflow))
        {
            double relative = RelativeError(FastExp.Exp(x), x);
            if (relative > worst)
            {
                (worst, worstAt) = (relative, x);
            }
        }

        Assert.True(worst <= MaxRelativeError, $"FastExp.Exp: worst relative error {worst:G3} at x = {worstAt:R} > {MaxRelativeError:G3}.");
    }

    [Fact]
    public void EveryWidth_IsWithinTwoUlpsOfMathExp()
    {
        float[] xs = Arguments().Where(x => x >= Underflow).ToArray();
        var widths = new List<(string Name, Func<float[], int, float[]> Run, int Lanes)>
        {
            ("scalar body", (a, i) => [FastExp.Exp<float, ScalarOps>(a[i])], 1),
        };
        if (Vector128.IsHardwareAccelerated)
        {
            widths.Add(("Vector128", (a, i) => Lanes(FastExp.Exp<Vector128<float>, Vector128Ops>(Vector128.Create(a.AsSpan(i, 4))), 4), 4));
        }

        if (Vector256.IsHardwareAccelerated)
        {
            widths.Add(("Vector256", (a, i) => Lanes(FastExp.Exp<Vector256<float>, Vector256Ops>(Vector256.Create(a.AsSpan(i, 8))), 8), 8));
        }

        if (Vector512.IsHardwareAccelerated)
        {
            widths.Add(("Vector512", (a, i) => Lanes(FastExp.Exp<Vector512<float>, Vector512Ops>(Vector512.Create(a.AsSpan(i, 16))), 16), 16));
        }

        foreach (var (name, run, lanes) in widths)
        {
            for (int i = 0; i + lanes <= xs.Length; i += lanes)
            {
                float[] results = run(xs, i);
                for (int lane = 0; lane < lanes; lane++)
                {
                    double relative = RelativeError(results[lane], xs[i + lane]);
                    Assert.True(relative <= MaxRelativeError, $"{name} FastExp at x = {xs[i + lane]:R}: {results[lane]:R}, relative error {relative:G3}.");
                }
            }
        }
    }

    [Fact]
    public void SpecialArguments()
    {
        Assert.Equal(1f, FastExp.Exp(0f));
        Assert.Equal(1f, FastExp.Exp(-0f));
        Assert.Equal(0f, FastExp.Exp(float.NegativeInfinity));
        Assert.True(float.IsNaN(FastExp.Exp(float.NaN)), "exp(NaN) must be NaN.");
        foreach (float x in new[] { -87.4f, -88f, -100f, -1000f, float.MinValue })
        {
            float result = FastExp.Exp(x);
            Assert.True(result >= 0f && result <= 1.2e-38f, $"exp({x}) must underflow to at most the smallest normal float, actual {result:R}.");
        }
    }

    [Fact]
    public void IsMonotoneNonIncreasingTowardsMinusInfinity()
    {
        float previous = FastExp.Exp(0f);
        for (float x = 0f; x > Underflow; x -= 0.0007f)
        {
            float current = FastExp.Exp(x);
            Assert.True(current <= previous * (1 + MaxRelativeError), $"exp({x:R}) = {current:R} exceeds exp of a larger argument, {previous:R}.");
            previous = Math.Min(previous, current);
        }
    }

    private static double RelativeError(float actual, float x)
    {
        double expected = Math.Exp(x);
        return Math.Abs(actual - expected) / expected;
    }

    private static float[] Lanes<TV>(TV vector, int count)
        where TV : struct
    {
        var lanes = new float[count];
        System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ref System.Runtime.CompilerServices.Unsafe.As<float, byte>(ref lanes[0]), vector);
        return lanes;
    }
}
