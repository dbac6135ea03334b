using System.Globalization;
using System.Text;
using SelfAttention.IO;

namespace SelfAttention.Cli.Tests.Helpers;

/// <summary>Test inputs as .npy files: good ones through the library's writer, bad ones byte by byte.</summary>
internal static class NpyFiles
{
    /// <summary>Writes a float32 array of uniform values in [−2, 2) from a fixed seed; returns the data.</summary>
    public static float[] WriteRandom(string path, ulong seed, params int[] shape)
    {
        var data = new float[shape.Aggregate(1, (p, d) => p * d)];
        new DeterministicRandom(seed).Fill(data, -2f, 2f);
        Npy.WriteFile(path, data, shape);
        return data;
    }

    /// <summary>
    /// A version 1.0 file with any header fields, built by the format's rules: magic, version, little-endian uint16
    /// header length, the dict padded with spaces to a multiple of 64 and ended by a newline, then the data bytes.
    /// </summary>
    public static void WriteRaw(string path, string descr, bool fortranOrder, int[] shape, byte[] data, string magic = "\u0093NUMPY")
    {
        string shapeText = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";
        string dict = $"{{'descr': '{descr}', 'fortran_order': {(fortranOrder ? "True" : "False")}, 'shape': {shapeText}, }}";
        int unpadded = 10 + dict.Length + 1;
        string header = dict + new string(' ', (64 - unpadded % 64) % 64) + "\n";
        using var stream = File.Create(path);
        stream.Write(Encoding.Latin1.GetBytes(magic));
        stream.Write([1, 0, (byte)(header.Length & 0xFF), (byte)(header.Length >> 8)]);
        stream.Write(Encoding.Latin1.GetBytes(header));
        stream.Write(data);
    }

    /// <summary>The SHA-256 of every file in <paramref name="folder"/>, by name: what a command must leave as it found it.</summary>
    public static SortedDictionary<string, string> Snapshot(string folder)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string path in Directory.GetFiles(folder))
        {
            files[Path.GetFileName(path)] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));
        }

        return files;
    }

    /// <summary>The little-endian bytes of <paramref name="values"/> as float32.</summary>
    public static byte[] Bytes(params float[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();
}
