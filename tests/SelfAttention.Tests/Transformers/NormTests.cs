using SelfAttention.Tests.Helpers;
using SelfAttention.Transformers;
using SelfAttention.Transformers.Reference;
using Xunit;

namespace SelfAttention.Tests.Transformers;

/// <summary>
/// <see cref="Norms"/> against <see cref="NaiveNorms"/> (double) at the width this process runs (CI: every width), on
/// ragged row widths, with and without residual and beta, with means large against the spread.
/// <para>
/// Tolerance per element, derived (u = 2⁻²⁴, the unit roundoff; n the row width; ŷ the normalised value before γ):
/// the sum <c>s = x + r</c> rounds by u·|s_c|, which moves ŷ by u·|s_c|/σ and the mean by up to u·max|s|, so
/// u·(|s_c| + max|s|)/σ; the float sums of the centred values and their squares (n terms, accumulated in order)
/// err by at most about (n/2)·u relative, which reaches the mean, σ and so ŷ as (n/2 + 8)·u·(|ŷ| + 1); the final
/// multiply-add rounds by u·|y|. The test allows four times the sum, times |γ_c|, plus 4u·|β_c|. A wrong statistic
/// (an unbiased variance, a missing residual, ε in the wrong place) costs 1/(2n) or more, which the small widths catch.
/// </para>
/// </summary>
public class NormTests
{
    private const double U = 1.0 / (1 << 24);

    public static TheoryData<int> Widths => new(1, 3, 17, 63, 65, 127, 129, 384, 1000);

    [Theory]
    [MemberData(nameof(Widths))]
    public void LayerNorm_MatchesTheReference(int width)
    {
        var rng = new Random(width);
        foreach (bool withResidual in new[] { false, true })
        {
            foreach (bool withBeta in new[] { false, true })
            {
                // Ordinary rows; a mean large against the spread; a small spread; ε = 0; squares past float's range and in its
                // subnormal range (those rows take the double path); rows that round to a constant (1 + 1e-25 is 1 in float).
                foreach ((float offset, float spread, float epsilon) in new[] { (0f, 1f, 1e-5f), (1e4f, 1f, 1e-12f), (-3f, 1e-3f, 1e-12f), (0f, 100f, 0f), (0f, 1e20f, 1e-5f), (1f, 1e-25f, 1e-12f), (0f, 1e-25f, 0f) })
                {
                    int rows = 3;
                    float[] x = Shifted(rng, rows * width, offset, spread), r = withResidual ? TestInputs.Uniform(rng, rows * width, spread) : [];
                    float[] gamma = TestInputs.Between(rng, width, 0.5f, 2f), beta = withBeta ? TestInputs.Uniform(rng, width, 1f) : [];
                    if (width == 1 && epsilon == 0)
                    {
                        continue; // a constant row with ε = 0 is 0/0 = NaN in both, as in PyTorch
                    }

                    var y = new float[rows * width];
                    var expected = new double[rows * width];
                    Norms.LayerNorm(x, r, gamma, beta, y, epsilon);
                    NaiveNorms.LayerNorm(x, r, gamma, beta, expected, epsilon);
                    string context = $"width {width}, residual {withResidual}, beta {withBeta}, offset {offset}, spread {spread}, ε {epsilon} ({SimdWidth.Name})";
                    for (int row = 0; row < rows; row++)
                    {
                        double maxS = 0, mean = 0, variance = 0;
                        for (int c = 0; c < width; c++)
                        {
                            double s = Sum(x, r, row * width + c);
                            maxS = Math.Max(maxS, Math.Abs(s));
                            mean += s / width;
                        }

                        for (int c = 0; c < width; c++)
                        {
                            variance += Math.Pow(Sum(x, r, row * width + c) - mean, 2) / width;
                        }

                        double sigma = Math.Sqrt(variance + epsilon);
                        for (int c = 0; c < width; c++)
                        {
                            int i = row * width + c;
                            double yHat = (Sum(x, r, i) - mean) / sigma;
                            double bound = 4 * U * (gamma[c] * ((Math.Abs(Sum(x, r, i)) + maxS) / sigma + (width / 2.0 + 8) * (Math.Abs(yHat) + 1))
                                                    + (withBeta ? Math.Abs(beta[c]) : 0));
                            Assert.True(Math.Abs(y[i] - expected[i]) <= bound, $"{context}: row {row}, column {c}: {y[i]:R} against {expected[i]:R}, bound {bound:G3}.");
                        }
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void RmsNorm_MatchesTheReference(int width)
    {
        var rng = new Random(width + 1000);
        foreach (bool withResidual in new[] { false, true })
        {
            foreach ((float offset, float spread, float epsilon) in new[] { (0f, 1f, 1e-6f), (1e4f, 1f, 1e-5f), (0f, 1e-20f, 0f), (0f, 1e15f, 1e-6f), (0f, 1e25f, 1e-6f), (0f, 1e-30f, 0f) })
            {
                int rows = 3;
                float[] x = Shifted(rng, rows * width, offset, spread), r = withResidual ? TestInputs.Uniform(rng, rows * width, spread) : [];
                float[] gamma = TestInputs.Between(rng, width, 0.5f, 2f);
                var y = new float[rows * width];
                var expected = new double[rows * width];
                Norms.RmsNorm(x, r, gamma, y, epsilon);
                NaiveNorms.RmsNorm(x, r, gamma, expected, epsilon);
                for (int i = 0; i < y.Length; i++)
                {
                    double bound = 4 * U * gamma[i % width] * (width / 2.0 + 10) * (Math.Abs(expected[i]) / gamma[i % width] + 1e-30);
                    Assert.True(Math.Abs(y[i] - expected[i]) <= bound,
                        $"width {width}, residual {withResidual}, offset {offset}, spread {spread}, ε {epsilon}: element {i}: {y[i]:R} against {expected[i]:R}, bound {bound:G3} ({SimdWidth.Name}).");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void InPlace_OnInputOrResidual_IsBitIdentical(int width)
    {
        var rng = new Random(width + 7);
        float[] x = TestInputs.Uniform(rng, 2 * width, 3f), r = TestInputs.Uniform(rng, 2 * width, 3f);
        float[] gamma = TestInputs.Between(rng, width, 0.5f, 2f), beta = TestInputs.Uniform(rng, width, 1f);
        var apart = new float[x.Length];
        Norms.LayerNorm(x, r, gamma, beta, apart, 1e-12f);
        float[] onInput = (float[])x.Clone(), onResidual = (float[])r.Clone();
        Norms.LayerNorm(onInput, r, gamma, beta, onInput, 1e-12f);
        Norms.LayerNorm(x, onResidual, gamma, beta, onResidual, 1e-12f);
        Assert.Equal(apart, onInput);
        Assert.Equal(apart, onResidual);

        Norms.RmsNorm(x, [], gamma, apart);
        float[] alone = (float[])x.Clone();
        Norms.RmsNorm(alone, [], gamma, alone);
        Assert.Equal(apart, alone);
    }

    /// <summary>
    /// The encoder layer's LayerNorm on several threads (row chunks as work items) gives the serial bits, for row counts
    /// that split into whole chunks and ragged ones, below the parallel threshold and above it, with and without residual
    /// and beta, at degrees 2, 3 and −1.
    /// </summary>
    [Theory]
    [InlineData(48, 127)]
    [InlineData(48, 128)]
    [InlineData(384, 1000)]
    [InlineData(17, 1029)]
    public void LayerNorm_OnSeveralThreads_IsTheSerialBits(int width, int rows)
    {
        var rng = new Random(width * 31 + rows);
        float[] x = TestInputs.Uniform(rng, rows * width, 3f), r = TestInputs.Uniform(rng, rows * width, 3f);
        float[] gamma = TestInputs.Between(rng, width, 0.5f, 2f), beta = TestInputs.Uniform(rng, width, 1f);
        foreach (bool withResidual in new[] { false, true })
        {
            foreach (bool withBeta in new[] { false, true })
            {
                ReadOnlySpan<float> residual = withResidual ? r : [], shift = withBeta ? beta : [];
                var serial = new float[x.Length];
                Norms.LayerNorm(x, residual, gamma, shift, serial, 1e-12f);
                foreach (int degree in new[] { 2, 3, -1 })
                {
                    var parallel = new float[x.Length];
                    SelfAttention.Transformers.Kernels.NormKernels.LayerNorm(x, residual, gamma, shift, parallel, 1e-12f, degree);
                    Assert.True(serial.AsSpan().SequenceEqual(parallel),
                        $"width {width}, rows {rows}, residual {withResidual}, beta {withBeta}, degree {degree}: differs from the serial rows ({SimdWidth.Name}).");
                }
            }
        }
    }

    [Fact]
    public void NaNInARow_StaysInThatRow()
    {
        float[] x = [1, 2, float.NaN, 4, 5, 6, 7, 8];
        float[] gamma = [1, 1, 1, 1];
        var y = new float[8];
        Norms.LayerNorm(x, [], gamma, [], y);
        Assert.All(y[..4], v => Assert.True(float.IsNaN(v)));
        Assert.All(y[4..], v => Assert.True(float.IsFinite(v)));
    }

    private static double Sum(float[] x, float[] r, int i) => (double)x[i] + (r.Length == 0 ? 0 : r[i]);

    private static float[] Shifted(Random rng, int count, float offset, float spread)
    {
        float[] values = TestInputs.Uniform(rng, count, spread);
        for (int i = 0; i < count; i++)
        {
            values[i] += offset;
        }

        return values;
    }
}
