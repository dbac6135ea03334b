using SelfAttention.Cli.Heatmap;
using Xunit;

namespace SelfAttention.Cli.Tests.Heatmap;

public sealed class ViridisTests
{
    [Theory]
    [InlineData(0.0, "#440154")] // matplotlib viridis(0.0)
    [InlineData(128 / 255.0, "#21918c")] // entry 128 of the table, an anchor (matplotlib's viridis(0.5))
    [InlineData(0.5, "#21908c")] // between entries 127 (#21908d) and 128
    [InlineData(1.0, "#fde725")] // viridis(1.0)
    [InlineData(-3.0, "#440154")]
    [InlineData(7.0, "#fde725")]
    [InlineData(double.NaN, "#440154")]
    public void At_MatchesMatplotlib(double t, string hex) => Assert.Equal(hex, Viridis.At(t).Hex);

    [Fact]
    public void At_GetsLighterAllTheWay()
    {
        // Viridis is monotone in lightness, which is what makes it readable in grey scale.
        double previous = -1;
        for (int k = 0; k <= 100; k++)
        {
            double luminance = Viridis.At(k / 100.0).RelativeLuminance;
            Assert.True(luminance > previous, $"t = {k / 100.0}");
            previous = luminance;
        }
    }

    [Fact]
    public void AnchorPositions_RunFromZeroToOne()
    {
        Assert.Equal(0, Viridis.AnchorPosition(0));
        Assert.Equal(1, Viridis.AnchorPosition(Viridis.AnchorCount - 1));
        for (int k = 1; k < Viridis.AnchorCount; k++)
        {
            Assert.True(Viridis.AnchorPosition(k) > Viridis.AnchorPosition(k - 1));
        }
    }

    [Theory]
    [InlineData(0, 0, 0, "#ffffff")]
    [InlineData(255, 255, 255, "#000000")]
    [InlineData(0x44, 0x01, 0x54, "#ffffff")]
    [InlineData(0xfd, 0xe7, 0x25, "#000000")]
    public void ContrastingText_PicksTheMoreReadableInk(byte r, byte g, byte b, string ink) =>
        Assert.Equal(ink, new Rgb(r, g, b).ContrastingText.Hex);
}
