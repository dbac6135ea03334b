using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Kernels;

/// <summary><see cref="AttentionPrimitives.SumNormalize"/>: s / Σs, zero sum → zeros.</summary>
public class SumNormalizeTests
{
    /// <summary>
    /// Every length 0…257, positive inputs (no cancellation): the sum of n terms is off by at most n·u relatively and
    /// the division by u, so each weight is within u·(n + 2) of the double result, relatively.
    /// </summary>
    [Fact]
    public void EveryLength_MatchesDoubleReference()
    {
        var rng = new Random(TestInputs.DefaultSeed);
        for (int length = 0; length <= 257; length++)
        {
            float[] x = TestInputs.Between(rng, length, 0.01f, 4f);
            var source = GuardedBuffer.Input(x);
            var destination = new GuardedBuffer(length);
            AttentionPrimitives.SumNormalize(source.Span, destination.Span);
            destination.AssertGuardsIntact($"SumNormalize length {length}");
            source.AssertUnchanged($"SumNormalize length {length}");
            double[] expected = PrimitiveReferences.SumNormalize(x);
            float[] actual = destination.ToArray();
            for (int j = 0; j < length; j++)
            {
                double bound = Tolerance.FloatRoundoff * (length + 2) * expected[j];
                Assert.True(Math.Abs(actual[j] - expected[j]) <= bound, $"SumNormalize length {length}: weight {j} expected {expected[j]:R}, actual {actual[j]:R}.");
            }
        }
    }

    [Theory]
    [InlineData(new float[] { 0f })]
    [InlineData(new float[] { 0f, 0f, 0f })]
    [InlineData(new float[] { 1f, -1f })]
    [InlineData(new float[] { 3f, -1f, -2f, 0f, 4f, -4f, 0.5f, -0.5f, 1f, -1f, 2f, -2f, 8f, -8f, 16f, -16f, 0.25f, -0.25f })]
    public void ZeroSum_GivesZeros(float[] x)
    {
        float[] destination = Enumerable.Repeat(GuardedMatrix.Sentinel, x.Length).ToArray();
        AttentionPrimitives.SumNormalize(x, destination);
        Assert.All(destination, w => Assert.Equal(0f, w));
    }

    [Fact]
    public void Example_DividesBySum()
    {
        float[] destination = new float[4];
        AttentionPrimitives.SumNormalize([1f, 2f, 3f, -2f], destination);
        Assert.Equal([0.25f, 0.5f, 0.75f, -0.5f], destination);
    }

    [Fact]
    public void InPlace_EqualsOutOfPlace()
    {
        float[] x = TestInputs.Between(new Random(5), 77, 0.1f, 2f);
        float[] outOfPlace = new float[x.Length];
        AttentionPrimitives.SumNormalize(x, outOfPlace);
        float[] inPlace = (float[])x.Clone();
        AttentionPrimitives.SumNormalize(inPlace, inPlace);
        Assert.Equal(outOfPlace, inPlace);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(17, 16)]
    [InlineData(70, 33)]
    public void NaN_GivesNaN(int length, int position)
    {
        float[] x = TestInputs.Between(new Random(length), length, 0.1f, 2f);
        x[position] = float.NaN;
        float[] destination = new float[length];
        AttentionPrimitives.SumNormalize(x, destination);
        Assert.All(destination, w => Assert.True(float.IsNaN(w), $"SumNormalize length {length} with NaN at {position}: expected NaN everywhere, actual {w}."));
    }
}
