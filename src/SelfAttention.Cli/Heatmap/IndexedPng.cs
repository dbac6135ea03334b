using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using Crc32Hash = System.IO.Hashing.Crc32;

namespace SelfAttention.Cli.Heatmap;

/// <summary>
/// A minimal PNG writer for 8-bit palette images (colour type 3), used to embed large matrices in the SVG as one
/// <c>data:</c> image (one byte per cell before compression) instead of one <c>&lt;rect&gt;</c> per cell.
/// </summary>
/// <remarks>
/// Layout (PNG specification, ISO/IEC 15948): signature, IHDR, PLTE, one IDAT holding a zlib stream of the scanlines
/// (each a filter-type byte 0, then <c>width</c> palette indices), IEND; every chunk is length, type, data, CRC-32 of
/// type and data (<see cref="Crc32Hash"/>, System.IO.Hashing). The output depends only on the input and the runtime's
/// zlib, so it is deterministic.
/// </remarks>
internal static class IndexedPng
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0d, 0x0a, 0x1a, 0x0a];

    /// <summary>Encodes <paramref name="indices"/> ([height, width], row-major) with <paramref name="palette"/> (at most 256 colours).</summary>
    public static byte[] Encode(ReadOnlySpan<byte> indices, int width, int height, ReadOnlySpan<Rgb> palette)
    {
        Debug.Assert(width > 0 && height > 0 && indices.Length == (long)width * height, "indices: [height, width]");
        Debug.Assert(palette.Length is > 0 and <= 256, "palette: 1 to 256 colours");

        using var png = new MemoryStream();
        png.Write(Signature);
        var crc = new Crc32Hash();

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8;   // bit depth
        header[9] = 3;   // colour type: palette
        header[10] = 0;  // compression: deflate
        header[11] = 0;  // filter method 0
        header[12] = 0;  // no interlace
        WriteChunk(png, crc, "IHDR"u8, header);

        var plte = new byte[palette.Length * 3];
        for (int k = 0; k < palette.Length; k++)
        {
            plte[3 * k] = palette[k].R;
            plte[(3 * k) + 1] = palette[k].G;
            plte[(3 * k) + 2] = palette[k].B;
        }

        WriteChunk(png, crc, "PLTE"u8, plte);

        using (var pixels = new MemoryStream())
        {
            using (var zlib = new ZLibStream(pixels, CompressionLevel.Optimal, leaveOpen: true))
            {
                for (int i = 0; i < height; i++)
                {
                    zlib.WriteByte(0); // filter: none (the usual choice for palette images)
                    zlib.Write(indices.Slice(i * width, width));
                }
            }

            WriteChunk(png, crc, "IDAT"u8, pixels.GetBuffer().AsSpan(0, (int)pixels.Length));
        }

        WriteChunk(png, crc, "IEND"u8, []);
        return png.ToArray();
    }

    /// <summary>The CRC-32 (ISO 3309, reflected polynomial 0xEDB88320) that PNG chunks carry.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data) => Crc32Hash.HashToUInt32(data);

    /// <summary>Writes one chunk: length, type, data, and the CRC-32 of type and data (<paramref name="crc"/> is left reset).</summary>
    private static void WriteChunk(Stream png, Crc32Hash crc, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        png.Write(type);
        png.Write(data);
        crc.Append(type);
        crc.Append(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, crc.GetCurrentHashAsUInt32());
        crc.Reset();
        png.Write(word);
    }
}
