using System.Text;
using SelfAttention.Cli.Heatmap;
using Xunit;

namespace SelfAttention.Cli.Tests.Heatmap;

public sealed class IndexedPngTests
{
    [Fact]
    public void Crc32_MatchesTheStandardCheckValue()
    {
        Assert.Equal(0xcbf43926u, IndexedPng.Crc32(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0u, IndexedPng.Crc32([]));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 2)]
    [InlineData(1, 257)]
    [InlineData(255, 7)]
    public void Encode_RoundTripsIndicesAndPalette(int width, int height)
    {
        var indices = new byte[width * height];
        for (int k = 0; k < indices.Length; k++)
        {
            indices[k] = (byte)((k * 7) % 3);
        }

        Rgb[] palette = [new(1, 2, 3), new(250, 128, 0), new(0, 0, 255)];

        var image = PngTestReader.Read(IndexedPng.Encode(indices, width, height, palette));

        Assert.Equal(["IHDR", "PLTE", "IDAT", "IEND"], image.Chunks);
        Assert.Equal((width, height), (image.Width, image.Height));
        Assert.Equal(palette, image.Palette);
        Assert.Equal(indices, image.Indices);
    }

    [Fact]
    public void Encode_IsDeterministic()
    {
        byte[] indices = Enumerable.Range(0, 400).Select(k => (byte)(k % 17)).ToArray();
        Rgb[] palette = ColorScale.Palette();

        Assert.Equal(IndexedPng.Encode(indices, 20, 20, palette), IndexedPng.Encode(indices, 20, 20, palette));
    }
}
