using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using SelfAttention.Cli.CommandLine;
using SelfAttention.IO;

namespace SelfAttention.Cli.Arrays;

/// <summary>
/// The dense mask of <c>run --mask</c>, read from a .npy file: a boolean array (<c>|b1</c>, PyTorch's <c>true</c> = may
/// attend) becomes <see cref="AttentionModifiers.BooleanMask"/>, a float32 (or float64, read as float32) array an
/// <see cref="AttentionModifiers.AdditiveMask"/>. Its shape is <c>[Nq, Nk]</c>, <c>[H, Nq, Nk]</c> or
/// <c>[B, H, Nq, Nk]</c>, each leading dimension the call's or 1 (PyTorch's broadcasting), mapped to
/// <see cref="AttentionMaskStrides"/> with stride 0 for a dimension of 1, so the mask is read in place.
/// </summary>
internal sealed partial class MaskArray
{
    private MaskArray(int[] shape, bool[]? boolean, float[]? additive)
    {
        Shape = shape;
        Boolean = boolean;
        Additive = additive;
    }

    /// <summary>The file's shape.</summary>
    public int[] Shape { get; }

    /// <summary>The boolean mask, or null for an additive one.</summary>
    public bool[]? Boolean { get; }

    /// <summary>The additive mask, or null for a boolean one.</summary>
    public float[]? Additive { get; }

    /// <summary>Reads the file at <paramref name="path"/>; every problem is a <see cref="UsageException"/> naming it.</summary>
    public static MaskArray Read(string command, string path)
    {
        if (!File.Exists(path))
        {
            throw new UsageException(Directory.Exists(path)
                ? $"{command}: --mask: {CliText.Echo(path)} is a folder, not a .npy file."
                : $"{command}: --mask: no such file: {CliText.Echo(path)}");
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 4096, FileOptions.SequentialScan);
            string? header = ReadHeader(stream, out long dataOffset);
            Match descr = header is null ? Match.Empty : DescrPattern().Match(header);
            if (header is not null && descr.Success && descr.Groups[1].Value is "|b1" or "b1" or "?" or "|?")
            {
                return ReadBoolean(command, path, stream, header, dataOffset);
            }

            // Not a boolean array: the library's reader takes float32 and float64 and explains everything else.
            stream.Position = 0;
            NpyArray array = Npy.Read(stream);
            return new MaskArray(array.Shape.ToArray(), null, array.Data);
        }
        catch (NpyFormatException e)
        {
            throw new UsageException($"{command}: --mask: {CliText.Echo(path)}: {e.Message} (a mask is bool or float32)");
        }
        catch (UnauthorizedAccessException)
        {
            throw new UsageException($"{command}: --mask: {CliText.Echo(path)}: permission denied.");
        }
        catch (IOException e)
        {
            throw new UsageException($"{command}: --mask: {CliText.Echo(path)}: cannot be read: {e.Message}");
        }
    }

    /// <summary>
    /// The strides of this mask over a call of <paramref name="shape"/>: the last two dimensions must be the query and
    /// key lengths, a third from the end the heads (or 1), a fourth the batch (or 1).
    /// </summary>
    public AttentionMaskStrides Strides(string command, string path, AttentionShape shape)
    {
        int rank = Shape.Length;
        int[] expected = rank switch
        {
            2 => [shape.QueryLength, shape.KeyLength],
            3 => [shape.Heads, shape.QueryLength, shape.KeyLength],
            4 => [shape.Batch, shape.Heads, shape.QueryLength, shape.KeyLength],
            _ => [],
        };
        bool fits = expected.Length == rank;
        for (int d = 0; fits && d < rank; d++)
        {
            fits = Shape[d] == expected[d] || (d < rank - 2 && Shape[d] == 1);
        }

        if (!fits)
        {
            throw new UsageException($"{command}: --mask: {CliText.Echo(path)}: expected shape [{shape.QueryLength}, {shape.KeyLength}], [{shape.Heads} or 1, {shape.QueryLength}, {shape.KeyLength}] or [{shape.Batch} or 1, {shape.Heads} or 1, {shape.QueryLength}, {shape.KeyLength}] (queries × keys of the call), got {Npy.FormatShape(Shape)}.");
        }

        long query = shape.KeyLength, head = (long)shape.QueryLength * shape.KeyLength;
        long headStride = rank >= 3 && Shape[rank - 3] != 1 ? head : 0;
        long batchStride = rank == 4 && Shape[0] != 1 ? Shape[1] * head : 0;
        return new AttentionMaskStrides(batchStride, headStride, query, 1);
    }

    // The header text of a .npy file (after the magic, version and length), or null when the start is not one: the
    // library's reader then says what is wrong.
    private static string? ReadHeader(Stream stream, out long dataOffset)
    {
        dataOffset = 0;
        Span<byte> start = stackalloc byte[12];
        if (stream.ReadAtLeast(start, 12, throwOnEndOfStream: false) < 12 || !IsMagic(start))
        {
            return null;
        }

        int major = start[6];
        long length = major == 1 ? start[8] | (start[9] << 8) : major is 2 or 3 ? BitConverter.ToUInt32(start[8..12]) : -1;
        int prefix = major == 1 ? 10 : 12;
        if (length is < 0 or > 1 << 20)
        {
            return null;
        }

        var text = new byte[length];
        stream.Position = prefix;
        if (stream.ReadAtLeast(text, (int)length, throwOnEndOfStream: false) < length)
        {
            return null;
        }

        dataOffset = prefix + length;
        return (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(text);
    }

    private static bool IsMagic(ReadOnlySpan<byte> start) =>
        start[0] == 0x93 && start[1] == 'N' && start[2] == 'U' && start[3] == 'M' && start[4] == 'P' && start[5] == 'Y';

    private static MaskArray ReadBoolean(string command, string path, Stream stream, string header, long dataOffset)
    {
        string Bad(string what) => $"{command}: --mask: {CliText.Echo(path)}: {what}";
        Match fortran = FortranPattern().Match(header);
        if (!fortran.Success || fortran.Groups[1].Value != "False")
        {
            throw new UsageException(Bad("expected a C-order bool array (fortran_order False)."));
        }

        Match shapeText = ShapePattern().Match(header);
        if (!shapeText.Success)
        {
            throw new UsageException(Bad("the header has no shape."));
        }

        var shape = new List<int>();
        Int128 count = 1;
        foreach (string part in shapeText.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int dimension))
            {
                throw new UsageException(Bad($"expected a shape of non-negative integers, got ({CliText.Echo(shapeText.Groups[1].Value)})."));
            }

            shape.Add(dimension);
            count = Int128.Min(count * dimension, long.MaxValue); // bounded: never wraps
        }

        if (count > Array.MaxLength)
        {
            throw new UsageException(Bad($"{count} elements: more than the largest array .NET can hold ({Array.MaxLength})."));
        }

        long data = stream.Length - dataOffset;
        if (data != count)
        {
            throw new UsageException(Bad($"expected {count} bytes of bool data for shape {Npy.FormatShape(shape.ToArray())}, found {Math.Max(0, data)}."));
        }

        var bytes = new byte[(int)count];
        stream.Position = dataOffset;
        stream.ReadExactly(bytes);
        var mask = new bool[bytes.Length];
        for (int n = 0; n < bytes.Length; n++)
        {
            if (bytes[n] > 1)
            {
                throw new UsageException(Bad($"element {n}: expected a bool (0 or 1), got byte {bytes[n]}."));
            }

            mask[n] = bytes[n] == 1;
        }

        return new MaskArray(shape.ToArray(), mask, null);
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
