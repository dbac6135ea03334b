using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace SelfAttention.Tests.IO;

/// <summary>
/// Builds <c>.npy</c> files byte by byte from the format rules (NEP 1), independently of the writer under test: magic
/// <c>\x93NUMPY</c>, major and minor version, the header length (uint16 LE in 1.0, uint32 LE in 2.0 and 3.0), the
/// header text padded with spaces (and usually a final <c>'\n'</c>) to a multiple of an alignment, then the data.
/// </summary>
internal static class NpyBytes
{
    public static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>The dict as numpy writes it: sorted keys, single quotes, a comma after every entry.</summary>
    public static string Dict(string descr, string shape, string fortranOrder = "False") =>
        $"{{'descr': '{descr}', 'fortran_order': {fortranOrder}, 'shape': {shape}, }}";

    /// <summary>A whole file: prefix, <paramref name="header"/> padded to <paramref name="align"/>, then <paramref name="data"/>.</summary>
    /// <param name="align">Total of prefix and header is a multiple of this; 1 means no padding.</param>
    /// <param name="newline">End the padding with <c>'\n'</c>, as numpy does (older writers and hand-made files may not).</param>
    /// <param name="headerBytes">The encoded header instead of <paramref name="header"/> in Latin-1 (3.0: UTF-8).</param>
    public static byte[] File(string header, byte[]? data = null, byte major = 1, byte minor = 0, int align = 64,
                              bool newline = true, byte[]? headerBytes = null)
    {
        int lengthSize = major == 1 ? 2 : 4;
        byte[] text = headerBytes ?? (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetBytes(header);
        int unpadded = Magic.Length + 2 + lengthSize + text.Length + (newline ? 1 : 0);
        int padding = (align - (unpadded % align)) % align;
        int headerLength = text.Length + padding + (newline ? 1 : 0);

        var bytes = new List<byte>(Magic) { major, minor };
        byte[] length = new byte[lengthSize];
        if (lengthSize == 2)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(length, checked((ushort)headerLength));
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)headerLength);
        }

        bytes.AddRange(length);
        bytes.AddRange(text);
        bytes.AddRange(Enumerable.Repeat((byte)' ', padding));
        if (newline)
        {
            bytes.Add((byte)'\n');
        }

        bytes.AddRange(data ?? []);
        return [.. bytes];
    }

    /// <summary>The little-endian bytes of float32 values.</summary>
    public static byte[] Singles(params float[] values)
    {
        byte[] bytes = new byte[values.Length * sizeof(float)];
        for (int index = 0; index < values.Length; index++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(index * sizeof(float)), values[index]);
        }

        return bytes;
    }

    /// <summary>The little-endian bytes of float64 values.</summary>
    public static byte[] Doubles(params double[] values)
    {
        byte[] bytes = new byte[values.Length * sizeof(double)];
        for (int index = 0; index < values.Length; index++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(index * sizeof(double)), values[index]);
        }

        return bytes;
    }

    /// <summary>
    /// The header <c>np.save</c> writes (numpy ≥ 1.24, <c>numpy/lib/format.py</c>): <c>_write_array_header</c> joins
    /// <c>'key': repr(value), </c> for the sorted keys, closes with <c>}</c>, adds <c>21 − len(repr(shape[0]))</c> spare
    /// spaces for a growing first axis; <c>_wrap_header</c> then adds <c>64 − (prefix + len + 1) % 64</c> spaces and
    /// <c>'\n'</c>, trying version 1.0 and falling back to 2.0 when the length does not fit a uint16.
    /// </summary>
    public static byte[] NumpySaveHeader(string descr, int[] shape)
    {
        string repr = shape.Length switch
        {
            0 => "()",
            1 => $"({shape[0].ToString(CultureInfo.InvariantCulture)},)",
            _ => $"({string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))})",
        };
        string header = Dict(descr, repr);
        if (shape.Length > 0)
        {
            header += new string(' ', 21 - shape[0].ToString(CultureInfo.InvariantCulture).Length);
        }

        int hlen = header.Length + 1;
        foreach (byte major in new byte[] { 1, 2 })
        {
            int lengthSize = major == 1 ? 2 : 4;
            int padlen = 64 - ((Magic.Length + 2 + lengthSize + hlen) % 64);
            if (major == 1 && hlen + padlen > ushort.MaxValue)
            {
                continue;
            }

            byte[] bytes = File(header + new string(' ', padlen), major: major, align: 1);
            return bytes;
        }

        throw new InvalidOperationException("unreachable");
    }

    /// <summary>The header text of a file: the bytes between the length field and the data, decoded as Latin-1.</summary>
    public static string HeaderText(byte[] file, out int dataOffset)
    {
        int lengthSize = file[6] == 1 ? 2 : 4;
        int length = lengthSize == 2
            ? BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8))
            : (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(8));
        dataOffset = 8 + lengthSize + length;
        return Encoding.Latin1.GetString(file, 8 + lengthSize, length);
    }
}
