using System.Buffers.Binary;
using System.IO.Compression;
using SelfAttention.Cli.Heatmap;
using Xunit;

namespace SelfAttention.Cli.Tests.Heatmap;

/// <summary>Reads back the 8-bit palette PNGs that <see cref="IndexedPng"/> writes, checking every chunk's CRC.</summary>
internal static class PngTestReader
{
    public sealed record Image(int Width, int Height, Rgb[] Palette, byte[] Indices, List<string> Chunks);

    public static Image Read(byte[] png)
    {
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a }, png[..8]);
        int width = 0, height = 0;
        Rgb[] palette = [];
        var idat = new MemoryStream();
        var chunks = new List<string>();
        int pos = 8;
        while (pos < png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            ReadOnlySpan<byte> typeAndData = png.AsSpan(pos + 4, 4 + length);
            string type = System.Text.Encoding.ASCII.GetString(typeAndData[..4]);
            ReadOnlySpan<byte> data = typeAndData[4..];
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos + 8 + length));
            Assert.Equal(IndexedPng.Crc32(typeAndData), crc);
            chunks.Add(type);
            switch (type)
            {
                case "IHDR":
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    Assert.Equal(new byte[] { 8, 3, 0, 0, 0 }, data[8..].ToArray());
                    break;
                case "PLTE":
                    palette = new Rgb[data.Length / 3];
                    for (int k = 0; k < palette.Length; k++)
                    {
                        palette[k] = new Rgb(data[3 * k], data[(3 * k) + 1], data[(3 * k) + 2]);
                    }

                    break;
                case "IDAT":
                    idat.Write(data);
                    break;
            }

            pos += 12 + length;
        }

        idat.Position = 0;
        using var zlib = new ZLibStream(idat, CompressionMode.Decompress);
        var raw = new MemoryStream();
        zlib.CopyTo(raw);
        byte[] scanlines = raw.ToArray();
        Assert.Equal(height * (width + 1), scanlines.Length);
        var indices = new byte[width * height];
        for (int i = 0; i < height; i++)
        {
            Assert.Equal(0, scanlines[i * (width + 1)]);
            scanlines.AsSpan((i * (width + 1)) + 1, width).CopyTo(indices.AsSpan(i * width));
        }

        return new Image(width, height, palette, indices, chunks);
    }
}
