using SelfAttention.Tests.Helpers;
using SelfAttention.Transformers;
using SelfAttention.Transformers.Reference;
using Xunit;

namespace SelfAttention.Tests.Transformers;

/// <summary>
/// <see cref="Linear"/> (packed weights, fused bias and activation, parallel column slabs) against
/// <see cref="NaiveLinear"/> (double) at the width this process runs, on ragged sizes around the tile (6 rows), the
/// panel (4 vectors) and the K block (256).
/// <para>
/// Tolerance per element, derived (u = 2⁻²⁴): the float sum of k products, accumulated in order, errs by at most
/// (k + 2)·u·(Σ|xᵢ·wᵢ| + |b|) (the standard bound γₖ of a dot product); an activation's slope is at most 1.13 (GELU's
/// maximum), and it adds its own relative error (5e-7 for GELU, 4e-7 for SiLU, the tanh form's 4e-7 + 2e-7·|2u|, see
/// ActivationTests). The test allows 1.2 times the sum product bound plus the activation's own error.
/// </para>
/// </summary>
public class LinearTests
{
    private const double U = 1.0 / (1 << 24);

    public static TheoryData<int, int> Sizes => new()
    {
        { 1, 1 }, { 3, 5 }, { 17, 33 }, { 64, 64 }, { 65, 129 }, { 257, 31 }, { 300, 65 }, { 384, 384 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void MatchesTheReference_EveryActivationAndLayout(int inFeatures, int outFeatures)
    {
        var rng = new Random(inFeatures * 1000 + outFeatures);
        float[] weights = TestInputs.Uniform(rng, inFeatures * outFeatures, 1f / MathF.Sqrt(inFeatures));
        float[] withBias = TestInputs.Uniform(rng, outFeatures, 0.5f);
        foreach ((int rows, float[] bias) in new[] { 1, 2, 3, 4, 5, 6, 7, 8, 13, 16 }.SelectMany(r => new[] { (r, withBias), (r, Array.Empty<float>()) }))
        {
            float[] x = TestInputs.Uniform(rng, rows * inFeatures, 2f);
            var linear = new double[rows * outFeatures];
            var magnitude = new double[rows * outFeatures];
            NaiveLinear.Forward(x, weights, bias, inFeatures, outFeatures, LinearWeightLayout.InputMajor, LinearActivation.None, linear);
            float[] absX = Array.ConvertAll(x, MathF.Abs), absW = Array.ConvertAll(weights, MathF.Abs), absB = Array.ConvertAll(bias, MathF.Abs);
            NaiveLinear.Forward(absX, absW, absB, inFeatures, outFeatures, LinearWeightLayout.InputMajor, LinearActivation.None, magnitude);
            foreach (LinearActivation activation in Enum.GetValues<LinearActivation>())
            {
                var layer = new Linear(weights, bias, inFeatures, outFeatures, LinearWeightLayout.InputMajor, activation);
                var y = new float[rows * outFeatures];
                var expected = new double[rows * outFeatures];
                layer.Forward(x, y);
                NaiveLinear.Forward(x, weights, bias, inFeatures, outFeatures, LinearWeightLayout.InputMajor, activation, expected);
                for (int i = 0; i < y.Length; i++)
                {
                    double pre = linear[i];
                    double own = activation switch
                    {
                        LinearActivation.Gelu => 5e-7,
                        LinearActivation.Silu => 4e-7,
                        LinearActivation.GeluTanh => 4e-7 + 2e-7 * Math.Abs(2 * 0.7978845608 * (pre + 0.044715 * pre * pre * pre)),
                        _ => 0,
                    } * Math.Abs(expected[i]);
                    double bound = 1.2 * 1.13 * (inFeatures + 2) * U * magnitude[i] + own + 1e-30;
                    Assert.True(Math.Abs(y[i] - expected[i]) <= bound,
                        $"{rows}×{inFeatures}·{inFeatures}×{outFeatures} {activation}, bias {bias.Length > 0}, element {i}: {y[i]:R} against {expected[i]:R}, bound {bound:G3} ({SimdWidth.Name}).");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void OutputMajorWeights_GiveTheSameBits(int inFeatures, int outFeatures)
    {
        var rng = new Random(outFeatures);
        float[] weights = TestInputs.Uniform(rng, inFeatures * outFeatures, 1f);
        var transposed = new float[weights.Length];
        for (int i = 0; i < inFeatures; i++)
        {
            for (int o = 0; o < outFeatures; o++)
            {
                transposed[o * inFeatures + i] = weights[i * outFeatures + o];
            }
        }

        float[] x = TestInputs.Uniform(rng, 9 * inFeatures, 1f);
        float[] a = new float[9 * outFeatures], b = new float[9 * outFeatures];
        new Linear(weights, [], inFeatures, outFeatures).Forward(x, a);
        new Linear(transposed, [], inFeatures, outFeatures, LinearWeightLayout.OutputMajor).Forward(x, b);
        Assert.Equal(a, b);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(-1)]
    public void EveryDegreeOfParallelism_GivesTheSameBits(int degree)
    {
        var rng = new Random(degree + 10);
        // 517 columns are 9 panels at 512 bits (33 at 128); 70 are 2 (5): with many rows the narrow product splits its rows
        // across the items too (200 and 397 rows: chunks of whole six-row tiles and a ragged last one).
        foreach (int columns in new[] { 517, 70 })
        {
            float[] weights = TestInputs.Uniform(rng, 300 * columns, 0.1f), bias = TestInputs.Uniform(rng, columns, 1f);
            var layer = new Linear(weights, bias, 300, columns, activation: LinearActivation.Gelu);
            foreach (int rows in new[] { 1, 7, 64, 200, 397 })
            {
                float[] x = TestInputs.Uniform(rng, rows * 300, 1f);
                float[] one = new float[rows * columns], many = new float[rows * columns];
                layer.Forward(x, one, 1);
                layer.Forward(x, many, degree);
                Assert.Equal(one, many);
            }
        }
    }

    [Fact]
    public void ManyThreadsAtOnce_EachGetsItsOwnAnswer()
    {
        float[] weights = TestInputs.Uniform(new Random(3), 64 * 96, 0.2f);
        var layer = new Linear(weights, [], 64, 96, activation: LinearActivation.Silu);
        float[][] inputs = Enumerable.Range(0, 8).Select(t => TestInputs.Uniform(new Random(t), 11 * 64, 1f)).ToArray();
        float[][] alone = inputs.Select(x => { var y = new float[11 * 96]; layer.Forward(x, y); return y; }).ToArray();
        float[][] together = inputs.Select(_ => new float[11 * 96]).ToArray();
        Parallel.For(0, 8, t => layer.Forward(inputs[t], together[t], 2));
        for (int t = 0; t < 8; t++)
        {
            Assert.Equal(alone[t], together[t]);
        }
    }

    [Fact]
    public void EveryRowIsTheProductOfThatRowAlone_WhicheverTileItLandsIn()
    {
        // Six-row tiles, pairs and single rows accumulate each element in the same order, so a row's result does not
        // depend on how many rows come with it (what lets packed sequences equal each sequence run alone).
        var rng = new Random(17);
        float[] weights = TestInputs.Uniform(rng, 300 * 517, 0.1f), bias = TestInputs.Uniform(rng, 517, 1f);
        var layer = new Linear(weights, bias, 300, 517, activation: LinearActivation.Gelu);
        foreach (int rows in new[] { 2, 3, 4, 5, 8, 11, 16 })
        {
            float[] x = TestInputs.Uniform(rng, rows * 300, 1f), all = new float[rows * 517], one = new float[517];
            layer.Forward(x, all);
            for (int r = 0; r < rows; r++)
            {
                layer.Forward(x.AsSpan(r * 300, 300), one);
                Assert.True(one.AsSpan().SequenceEqual(all.AsSpan(r * 517, 517)), $"{rows} rows: row {r} differs from the row alone ({SimdWidth.Name}).");
            }
        }
    }
}
