using Xunit;

namespace SelfAttention.Tests.Layers;

/// <summary>
/// The generator's sequence is part of the contract (the same seed gives the same weights on every machine and .NET
/// version), so it is pinned to golden values computed independently (a Python transcription of SplitMix64 seeding and
/// xoshiro256** from their published definitions).
/// </summary>
public class DeterministicRandomTests
{
    [Theory]
    [InlineData(0UL, 0x99ec5f36cb75f2b4UL, 0xbf6e1f784956452aUL, 0x1a5f849d4933e6e0UL)]
    [InlineData(42UL, 0x15780b2e0c2ec716UL, 0x6104d9866d113a7eUL, 0xae17533239e499a1UL)]
    public void Sequence_MatchesGoldenValues(ulong seed, ulong first, ulong second, ulong third)
    {
        var random = new DeterministicRandom(seed);
        Assert.Equal(first, random.NextUInt64());
        Assert.Equal(second, random.NextUInt64());
        Assert.Equal(third, random.NextUInt64());
    }

    [Fact]
    public void NextSingle_IsTheTop24BitsAsAFraction()
    {
        var random = new DeterministicRandom(42);
        Assert.Equal(0.08386296033859253f, random.NextSingle());
        Assert.Equal(0.37898021936416626f, random.NextSingle());
        Assert.Equal(0.6800433993339539f, random.NextSingle());
    }

    [Fact]
    public void XavierUniform_StaysInBoundAndFillsTheRange()
    {
        var weights = new float[64 * 32];
        new DeterministicRandom(7).FillXavierUniform(weights, 64, 32);
        float bound = MathF.Sqrt(6f / (64 + 32));
        Assert.All(weights, w => Assert.InRange(w, -bound, bound));
        Assert.True(weights.Min() < -0.9f * bound && weights.Max() > 0.9f * bound, "2048 draws should come near both ends of the range");
        Assert.InRange(weights.Average(), -0.05 * bound, 0.05 * bound);
    }

    [Fact]
    public void XavierUniform_WrongLength_ThrowsBeforeWriting()
    {
        var weights = new float[10];
        Array.Fill(weights, 12345f);
        var e = Assert.Throws<ArgumentException>(() => new DeterministicRandom(1).FillXavierUniform(weights, 3, 4));
        Assert.Equal("weights", e.ParamName);
        Assert.Contains("expected 12", e.Message);
        Assert.Contains("actual 10", e.Message);
        Assert.All(weights, w => Assert.Equal(12345f, w));
    }
}
