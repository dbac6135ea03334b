using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Kernels;

/// <summary><see cref="AttentionPrimitives.Softmax"/>: exact to float rounding, stable, −∞-aware, in place.</summary>
public class SoftmaxTests
{
    private const double U = Tolerance.FloatRoundoff;

    /// <summary>
    /// Every length 0…257 against a double reference. Float error per weight: rounding of x − max (≤ u·|x − max|), the
    /// exp (≤ 2 ulps = 4u), the sum of n terms (≤ n·u in any order) and the division (u): a relative bound of
    /// u·(|x − max| + n + 8). A few subnormal-range weights get an absolute floor of 1e-37.
    /// </summary>
    [Fact]
    public void EveryLength_MatchesDoubleReference()
    {
        var rng = new Random(TestInputs.DefaultSeed);
        for (int length = 0; length <= 257; length++)
        {
            float[] x = TestInputs.Uniform(rng, length, 10f);
            var destination = new GuardedBuffer(length);
            var source = GuardedBuffer.Input(x);
            AttentionPrimitives.Softmax(source.Span, destination.Span);
            destination.AssertGuardsIntact($"Softmax length {length}");
            source.AssertUnchanged($"Softmax length {length}");
            AssertMatches(x, destination.ToArray(), $"Softmax length {length}");
        }
    }

    [Theory]
    [InlineData(new float[] { 1000f, 1000f })]
    [InlineData(new float[] { -1000f, -1000f })]
    [InlineData(new float[] { 89f, 0f })]
    [InlineData(new float[] { 1000f, 0f, -1000f })]
    [InlineData(new float[] { 88.7f, 88.7f, 88.7f })]
    [InlineData(new float[] { float.MaxValue, float.MaxValue })]
    [InlineData(new float[] { float.MaxValue, -float.MaxValue })]
    [InlineData(new float[] { -1e30f, 1e30f, 0f })]
    public void LargeScores_StayFiniteAndExact(float[] x)
    {
        float[] destination = new float[x.Length];
        AttentionPrimitives.Softmax(x, destination);
        Assert.All(destination, w => Assert.True(float.IsFinite(w), $"Softmax([{string.Join(", ", x)}]) gave {w}."));
        AssertMatches(x, destination, $"Softmax([{string.Join(", ", x)}])");
    }

    [Fact]
    public void ThousandThousand_IsOneHalfEach()
    {
        float[] destination = new float[2];
        AttentionPrimitives.Softmax([1000f, 1000f], destination);
        Assert.Equal([0.5f, 0.5f], destination);
    }

    [Theory]
    [InlineData(new float[] { float.NegativeInfinity, 0f, 1f, float.NegativeInfinity })]
    [InlineData(new float[] { 2f, float.NegativeInfinity })]
    [InlineData(new float[] { float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, 3f, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, -4f })]
    public void NegativeInfinity_GetsZeroWeight(float[] x)
    {
        float[] destination = new float[x.Length];
        AttentionPrimitives.Softmax(x, destination);
        for (int j = 0; j < x.Length; j++)
        {
            if (float.IsNegativeInfinity(x[j]))
            {
                Assert.True(destination[j] == 0f, $"weight {j} of a −∞ score must be 0, actual {destination[j]}.");
            }
        }

        AssertMatches(x, destination, $"Softmax([{string.Join(", ", x)}])");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(257)]
    public void AllNegativeInfinity_GivesZeros(int length)
    {
        float[] x = Enumerable.Repeat(float.NegativeInfinity, length).ToArray();
        var destination = new GuardedBuffer(length);
        AttentionPrimitives.Softmax(x, destination.Span);
        destination.AssertGuardsIntact($"Softmax of {length} × −∞");
        Assert.All(destination.ToArray(), w => Assert.Equal(0f, w));
    }

    [Fact]
    public void Empty_WritesNothing()
    {
        var destination = new GuardedBuffer(0);
        AttentionPrimitives.Softmax(ReadOnlySpan<float>.Empty, destination.Span);
        destination.AssertGuardsIntact("Softmax of an empty row");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(33)]
    [InlineData(100)]
    [InlineData(257)]
    public void InPlace_EqualsOutOfPlace(int length)
    {
        float[] x = TestInputs.Uniform(new Random(length), length, 20f);
        float[] outOfPlace = new float[length];
        AttentionPrimitives.Softmax(x, outOfPlace);
        var inPlace = GuardedBuffer.Input(x);
        AttentionPrimitives.Softmax(inPlace.Span, inPlace.Span);
        Assert.Equal(outOfPlace, inPlace.ToArray());
        AssertMatches(x, inPlace.ToArray(), $"in-place Softmax length {length}");
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(3, 1)]
    [InlineData(16, 15)]
    [InlineData(17, 16)]
    [InlineData(70, 0)]
    [InlineData(70, 37)]
    [InlineData(70, 69)]
    public void NaN_GivesNaN(int length, int position)
    {
        float[] x = TestInputs.Uniform(new Random(length), length, 5f);
        x[position] = float.NaN;
        float[] destination = new float[length];
        AttentionPrimitives.Softmax(x, destination);

        // One NaN makes the normaliser NaN, so every weight of the row is NaN.
        Assert.All(destination, w => Assert.True(float.IsNaN(w), $"Softmax length {length} with NaN at {position}: expected NaN everywhere, actual {w}."));
    }

    [Fact]
    public void LongRow_SumsToOne()
    {
        float[] x = TestInputs.Uniform(new Random(3), 100_003, 8f);
        float[] destination = new float[x.Length];
        AttentionPrimitives.Softmax(x, destination);
        double sum = destination.Sum(w => (double)w);
        Assert.True(Math.Abs(sum - 1) <= 1e-4, $"Softmax of 100003 scores sums to {sum:R}.");
        AssertMatches(x, destination, "Softmax length 100003");
    }

    private static void AssertMatches(float[] x, float[] actual, string context)
    {
        double[] expected = PrimitiveReferences.Softmax(x);
        float max = x.Length == 0 ? 0 : x.Max();
        for (int j = 0; j < x.Length; j++)
        {
            double distance = float.IsNegativeInfinity(x[j]) ? 0 : Math.Min((double)max - x[j], 1e30);
            double bound = U * (distance + x.Length + 8) * expected[j] + 1e-37;
            double error = Math.Abs(actual[j] - expected[j]);
            Assert.True(error <= bound, $"{context}: weight {j} expected {expected[j]:R}, actual {actual[j]:R}, error {error:G3} > {bound:G3}.");
        }
    }
}
