using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Kernels;

/// <summary><see cref="AttentionPrimitives.Dot"/> at every length against a double reference.</summary>
public class DotTests
{
    /// <summary>
    /// Every length 0…257. A float sum of n products, in any order and with or without FMA, is within
    /// γ_n·Σ|x·y| ≈ n·u·Σ|x·y| of the exact value (Higham, Accuracy and Stability, §3.1); we allow (n + 2)·u·Σ|x·y|.
    /// </summary>
    [Fact]
    public void EveryLength_MatchesDoubleReference()
    {
        var rng = new Random(TestInputs.DefaultSeed);
        for (int length = 0; length <= 257; length++)
        {
            var x = GuardedBuffer.Input(TestInputs.Uniform(rng, length, 3f));
            var y = GuardedBuffer.Input(TestInputs.Uniform(rng, length, 3f));
            float actual = AttentionPrimitives.Dot(x.Span, y.Span);
            var (expected, absoluteSum) = PrimitiveReferences.Dot(x.Span, y.Span);
            double bound = (length + 2) * Tolerance.FloatRoundoff * absoluteSum;
            Assert.True(Math.Abs(actual - expected) <= bound, $"Dot length {length}: expected {expected:R}, actual {actual:R}, bound {bound:G3}.");
            x.AssertUnchanged($"Dot length {length}, x");
            y.AssertUnchanged($"Dot length {length}, y");
        }
    }

    /// <summary>Small integers multiply and add exactly in float, so any indexing slip shows as an exact mismatch.</summary>
    [Fact]
    public void EveryLength_IsExactOnSmallIntegers()
    {
        var rng = new Random(11);
        for (int length = 0; length <= 257; length++)
        {
            float[] x = Enumerable.Range(0, length).Select(_ => (float)rng.Next(-8, 9)).ToArray();
            float[] y = Enumerable.Range(0, length).Select(_ => (float)rng.Next(-8, 9)).ToArray();
            float expected = (float)PrimitiveReferences.Dot(x, y).Value;
            Assert.Equal(expected, AttentionPrimitives.Dot(x, y));
        }
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(16, 15)]
    [InlineData(37, 36)]
    [InlineData(64, 3)]
    public void NaN_GivesNaN(int length, int position)
    {
        float[] x = TestInputs.Uniform(new Random(1), length, 1f);
        float[] y = TestInputs.Uniform(new Random(2), length, 1f);
        x[position] = float.NaN;
        Assert.True(float.IsNaN(AttentionPrimitives.Dot(x, y)), $"Dot length {length} with NaN at {position} must be NaN.");
    }
}
