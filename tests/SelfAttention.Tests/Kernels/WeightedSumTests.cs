using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Kernels;

/// <summary><see cref="AttentionPrimitives.WeightedSum"/>: destination[c] = Σ_j w_j·values[j·dv + c], every size.</summary>
public class WeightedSumTests
{
    /// <summary>Every value dim 0…257 (5 weights) and every count 0…257 (17 columns): within (count + 2)·u·Σ_j|w_j·v_jc| per column.</summary>
    [Fact]
    public void EverySize_MatchesDoubleReference()
    {
        var rng = new Random(TestInputs.DefaultSeed);
        for (int size = 0; size <= 257; size++)
        {
            Check(rng, count: 5, valueDim: size);
            Check(rng, count: size, valueDim: 17);
        }
    }

    /// <summary>Small integers make every product and sum exact, so the result must equal the reference exactly.</summary>
    [Fact]
    public void EverySize_IsExactOnSmallIntegers()
    {
        var rng = new Random(12);
        for (int size = 0; size <= 257; size++)
        {
            foreach (var (count, valueDim) in new[] { (3, size), (size, 9) })
            {
                float[] weights = Enumerable.Range(0, count).Select(_ => (float)rng.Next(-4, 5)).ToArray();
                float[] values = Enumerable.Range(0, count * valueDim).Select(_ => (float)rng.Next(-4, 5)).ToArray();
                float[] destination = new float[valueDim];
                AttentionPrimitives.WeightedSum(weights, values, destination);
                double[] expected = PrimitiveReferences.WeightedSum(weights, values, valueDim).Value;
                Assert.Equal(expected.Select(e => (float)e).ToArray(), destination);
            }
        }
    }

    [Fact]
    public void NoWeights_WritesZeros()
    {
        var destination = new GuardedBuffer(33);
        destination.Span.Fill(GuardedMatrix.Sentinel);
        AttentionPrimitives.WeightedSum(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, destination.Span);
        destination.AssertGuardsIntact("WeightedSum of no rows");
        Assert.All(destination.ToArray(), value => Assert.Equal(0f, value));
    }

    [Fact]
    public void NaNValue_GivesNaNOnlyInItsColumn()
    {
        int count = 9, valueDim = 21;
        float[] weights = TestInputs.Between(new Random(1), count, 0.1f, 1f);
        float[] values = TestInputs.Uniform(new Random(2), count * valueDim, 1f);
        values[4 * valueDim + 17] = float.NaN;
        float[] destination = new float[valueDim];
        AttentionPrimitives.WeightedSum(weights, values, destination);
        for (int c = 0; c < valueDim; c++)
        {
            Assert.True(float.IsNaN(destination[c]) == (c == 17), $"column {c}: {destination[c]} (NaN expected only in column 17).");
        }
    }

    private static void Check(Random rng, int count, int valueDim)
    {
        var weights = GuardedBuffer.Input(TestInputs.Uniform(rng, count, 1f));
        var values = GuardedBuffer.Input(TestInputs.Uniform(rng, count * valueDim, 2f));
        var destination = new GuardedBuffer(valueDim);
        string context = $"WeightedSum count {count}, valueDim {valueDim}";
        AttentionPrimitives.WeightedSum(weights.Span, values.Span, destination.Span);
        destination.AssertGuardsIntact(context);
        weights.AssertUnchanged($"{context}, weights");
        values.AssertUnchanged($"{context}, values");
        var (expected, absoluteSum) = PrimitiveReferences.WeightedSum(weights.Span, values.Span, valueDim);
        float[] actual = destination.ToArray();
        for (int c = 0; c < valueDim; c++)
        {
            double bound = (count + 2) * Tolerance.FloatRoundoff * absoluteSum[c];
            Assert.True(Math.Abs(actual[c] - expected[c]) <= bound, $"{context}: column {c} expected {expected[c]:R}, actual {actual[c]:R}, bound {bound:G3}.");
        }
    }
}
