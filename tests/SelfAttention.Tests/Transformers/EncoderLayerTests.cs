using SelfAttention.Tests.Helpers;
using SelfAttention.Transformers;
using SelfAttention.Transformers.Reference;
using Xunit;

namespace SelfAttention.Tests.Transformers;

/// <summary>
/// <see cref="EncoderLayer"/> against <see cref="NaiveEncoderLayer"/> (double, plain loops) at the width this process
/// runs: post-LN and pre-LN, causal or not, ragged model and head widths, batches.
/// <para>
/// Tolerance, derived: each of the layer's five products errs by at most (k + 2)·u·Σ|xᵢ·wᵢ| (u = 2⁻²⁴, k ≤ f), where
/// with these weights (uniform in ±1/√k) and unit-scale activations Σ|xᵢ·wᵢ| is at most about √k; attention, the
/// activations and the norms add a few u each, and the LayerNorms pass errors on with a factor |γ|/σ of order 1. Their
/// sum is below 8·(f + 2d)·u·√f, the bound used (9e-4 at the largest case, d = 48, f = 96); every element is also
/// compared in relative terms in the report. A wrong scale (1/√d instead of 1/√(d/heads)), a residual left out or the
/// norms swapped change the output by 1e-2 or more.
/// </para>
/// </summary>
public class EncoderLayerTests
{
    private const double U = 1.0 / (1 << 24);

    public static TheoryData<int, int, int, NormPlacement, bool, LinearActivation> Cases
    {
        get
        {
            var data = new TheoryData<int, int, int, NormPlacement, bool, LinearActivation>();
            foreach (var (d, heads, f) in new[] { (32, 4, 64), (48, 3, 96), (8, 1, 8) })
            {
                foreach (NormPlacement placement in Enum.GetValues<NormPlacement>())
                {
                    data.Add(d, heads, f, placement, false, LinearActivation.Gelu);
                    data.Add(d, heads, f, placement, true, LinearActivation.Silu);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTheReference(int d, int heads, int f, NormPlacement placement, bool causal, LinearActivation activation)
    {
        var weights = EncoderLayerWeights.CreateRandom(d, f, seed: (ulong)(d * 100 + f));
        var options = new EncoderLayerOptions { Heads = heads, Placement = placement, IsCausal = causal, FeedForwardActivation = activation };
        var layer = new EncoderLayer(weights, options);
        double bound = 8 * (f + 2 * d) * U * Math.Sqrt(f);
        foreach (var (batch, n) in new[] { (1, 1), (1, 3), (2, 17), (1, 33) })
        {
            float[] x = TestInputs.Uniform(new Random(batch * 100 + n), batch * n * d, 1f);
            var y = new float[x.Length];
            var expected = new double[x.Length];
            layer.Forward(x, y, batch, n);
            NaiveEncoderLayer.Forward(weights, options, x, expected, batch, n);
            for (int i = 0; i < y.Length; i++)
            {
                Assert.True(Math.Abs(y[i] - expected[i]) <= bound,
                    $"d {d}, heads {heads}, f {f}, {placement}, causal {causal}, {activation}, batch {batch} × {n}: element {i}: {y[i]:R} against {expected[i]:R}, bound {bound:G3} ({SimdWidth.Name}).");
            }
        }
    }

    [Fact]
    public void ABatch_IsEachSequenceAlone_InPlace_AtAnyDegree()
    {
        var weights = EncoderLayerWeights.CreateRandom(48, 96, seed: 5);
        var layer = new EncoderLayer(weights, new EncoderLayerOptions { Heads = 6 });
        int n = 13;
        float[] x = TestInputs.Uniform(new Random(9), 3 * n * 48, 1f);
        var together = new float[x.Length];
        layer.Forward(x, together, 3, n);
        for (int b = 0; b < 3; b++)
        {
            float[] alone = x.AsSpan(b * n * 48, n * 48).ToArray();
            var y = new float[alone.Length];
            layer.Forward(alone, y, 1, n);
            Assert.Equal(together.AsSpan(b * n * 48, n * 48).ToArray(), y);
        }

        float[] inPlace = (float[])x.Clone();
        layer.Forward(inPlace, inPlace, 3, n, maxDegreeOfParallelism: -1);
        Assert.Equal(together, inPlace);
    }

    [Fact]
    public void EmptyBatch_WritesNothing()
    {
        var layer = new EncoderLayer(EncoderLayerWeights.CreateRandom(8, 8, 1), new EncoderLayerOptions { Heads = 2 });
        layer.Forward([], [], 0, 5);
        layer.Forward([], [], 3, 0);
    }
}
