using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace SelfAttention.IO;

/// <summary>
/// The array description in a <c>.npy</c> header (NEP 1, <c>numpy.lib.format</c>), parsed from and formatted to its
/// text: <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }</c>.
/// <para>
/// File layout: the magic string <c>\x93NUMPY</c>, major and minor version bytes, the header length (little-endian
/// uint16 in version 1.0, uint32 in 2.0 and 3.0), the header (Latin-1 text, UTF-8 in 3.0) padded with spaces and ended
/// by <c>'\n'</c> so that the data starts at a multiple of 64 bytes (16 in older files), then the elements.
/// </para>
/// </summary>
internal sealed class NpyHeader
{
    /// <summary>The data of files we write starts at a multiple of this (numpy's <c>ARRAY_ALIGN</c>).</summary>
    public const int Alignment = 64;

    /// <summary>
    /// numpy leaves room after the dict for the first dimension to grow to this many digits, so an array can be
    /// appended to in place (<c>GROWTH_AXIS_MAX_DIGITS</c>); we write the same spaces, so our headers match numpy's.
    /// </summary>
    private const int GrowthAxisMaxDigits = 21;

    private NpyHeader(NpyDataType type, int[] shape, int elementCount)
    {
        Type = type;
        Shape = shape;
        ElementCount = elementCount;
    }

    /// <summary>The magic string that opens every <c>.npy</c> file.</summary>
    public static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public NpyDataType Type { get; }

    public int[] Shape { get; }

    /// <summary>Product of <see cref="Shape"/>; at most <see cref="Array.MaxLength"/>.</summary>
    public int ElementCount { get; }

    public int ElementSize => Type == NpyDataType.Float32 ? sizeof(float) : sizeof(double);

    public long DataLength => (long)ElementCount * ElementSize;

    /// <summary>The dtype descriptor we write, and name in messages.</summary>
    public static string Descr(NpyDataType type) => type == NpyDataType.Float32 ? "<f4" : "<f8";

    /// <summary>A shape as Python's <c>repr</c> of a tuple: <c>()</c>, <c>(5,)</c>, <c>(2, 3)</c>.</summary>
    public static string FormatShape(ReadOnlySpan<int> shape) => shape.Length switch
    {
        0 => "()",
        1 => string.Create(CultureInfo.InvariantCulture, $"({shape[0]},)"),
        _ => $"({string.Join(", ", shape.ToArray().Select(d => d.ToString(CultureInfo.InvariantCulture)))})",
    };

    /// <summary>
    /// Checks the header dict and returns what it describes: exactly the keys <c>descr</c>, <c>fortran_order</c> and
    /// <c>shape</c> (as numpy requires); descr <c>'&lt;f4'</c> or <c>'&lt;f8'</c>, or <c>'=f4'</c>/<c>'=f8'</c>, native
    /// order, which is little-endian on every host this library runs on (numpy reads '=' as its own native order too);
    /// <c>fortran_order</c> False; a shape of at most <see cref="Npy.MaxRank"/> non-negative ints whose product fits in a
    /// .NET array.
    /// </summary>
    /// <exception cref="NpyFormatException">The header is malformed or describes an array this library does not read.</exception>
    public static NpyHeader Parse(string text)
    {
        Dictionary<string, PythonValue> entries = PythonLiteral.ParseDictionary(text);
        string[] missing = [.. new[] { "descr", "fortran_order", "shape" }.Where(key => !entries.ContainsKey(key))];
        if (missing.Length > 0)
        {
            throw NpyErrors.MissingKeys(missing);
        }

        if (entries.Count > 3)
        {
            throw NpyErrors.UnexpectedKey(entries.Keys.First(key => key is not ("descr" or "fortran_order" or "shape")));
        }

        NpyDataType type = ParseDescr(entries["descr"]);
        PythonValue fortranOrder = entries["fortran_order"];
        if (fortranOrder.Kind != PythonKind.Boolean)
        {
            throw NpyErrors.BadFortranOrder(fortranOrder.Source);
        }

        if (fortranOrder.Value == "True")
        {
            throw NpyErrors.FortranOrder();
        }

        var (shape, elementCount) = ParseShape(entries["shape"]);
        return new NpyHeader(type, shape, elementCount);
    }

    private static NpyDataType ParseDescr(PythonValue descr)
    {
        if (descr.Kind is PythonKind.List or PythonKind.Tuple)
        {
            throw NpyErrors.StructuredDtype(descr.Source);
        }

        if (descr.Kind != PythonKind.String)
        {
            throw NpyErrors.BadDescr(descr.Source);
        }

        string value = descr.Value;
        return value switch
        {
            "<f4" or "=f4" => NpyDataType.Float32,
            "<f8" or "=f8" => NpyDataType.Float64,
            ">f4" or ">f8" => throw NpyErrors.BigEndian(value),
            _ => throw NpyErrors.UnsupportedDtype(value),
        };
    }

    private static (int[] Shape, int ElementCount) ParseShape(PythonValue shape)
    {
        if (shape.Kind != PythonKind.Tuple || !shape.AllIntegers)
        {
            throw NpyErrors.BadShape(shape.Source);
        }

        if (shape.Count > Npy.MaxRank)
        {
            throw NpyErrors.TooManyDimensions(shape.Source, shape.Count);
        }

        PythonValue[] items = PythonLiteral.Items(shape);

        // The element count saturates just above Array.MaxLength: each factor is at most int.MaxValue, so the product
        // stays below 2^62 and a later 0 still makes it 0.
        long saturated = (long)Array.MaxLength + 1;
        var dimensions = new int[items.Length];
        long count = 1;
        for (int k = 0; k < dimensions.Length; k++)
        {
            string digits = items[k].Digits;
            bool parsed = long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long dimension);
            if (digits.StartsWith('-') && (!parsed || dimension < 0))
            {
                throw NpyErrors.NegativeDimension(digits, shape.Source);
            }

            if (!parsed || dimension > int.MaxValue)
            {
                throw NpyErrors.DimensionTooLarge(digits, shape.Source);
            }

            dimensions[k] = (int)dimension;
            count = Math.Min(count * dimension, saturated);
        }

        if (count == saturated)
        {
            // Only to say the exact count: at most MaxRank factors below 2^31, so this product is small.
            BigInteger exact = dimensions.Aggregate(BigInteger.One, (product, dimension) => product * dimension);
            throw NpyErrors.TooManyElements(shape.Source, exact.ToString(CultureInfo.InvariantCulture));
        }

        return (dimensions, (int)count);
    }

    /// <summary>
    /// The bytes numpy's <c>np.save</c> writes before the data of a C-ordered <paramref name="type"/> array of
    /// <paramref name="shape"/>: the dict with sorted keys and Python reprs, the spare spaces for a growing first axis,
    /// then spaces and <c>'\n'</c> up to a multiple of <see cref="Alignment"/>. Always version 1.0: with at most
    /// <see cref="Npy.MaxRank"/> dimensions the header is under 1 KB, far from the 65535 bytes a uint16 length can say
    /// (numpy too writes 2.0 only for huge structured dtypes).
    /// </summary>
    public static byte[] Format(NpyDataType type, ReadOnlySpan<int> shape)
    {
        Debug.Assert(shape.Length <= Npy.MaxRank, "Callers validate the rank.");
        var dict = new StringBuilder(80);
        dict.Append("{'descr': '").Append(Descr(type)).Append("', 'fortran_order': False, 'shape': ").Append(FormatShape(shape)).Append(", }");
        if (shape.Length > 0)
        {
            dict.Append(' ', GrowthAxisMaxDigits - shape[0].ToString(CultureInfo.InvariantCulture).Length);
        }

        // numpy's _wrap_header: padding = 64 − (prefix + text + '\n') mod 64, so 1…64 spaces.
        const int PrefixLength = 6 + 2 + sizeof(ushort);   // magic, version, uint16 header length
        int textLength = dict.Length + 1;
        int padding = Alignment - ((PrefixLength + textLength) % Alignment);
        int headerLength = textLength + padding;
        Debug.Assert(headerLength <= Npy.MaxHeaderLength, "A header of at most MaxRank dimensions is short.");
        byte[] bytes = new byte[PrefixLength + headerLength];
        Magic.CopyTo(bytes);
        bytes[Magic.Length] = 1;
        bytes[Magic.Length + 1] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(Magic.Length + 2), (ushort)headerLength);

        int written = Encoding.ASCII.GetBytes(dict.ToString(), bytes.AsSpan(PrefixLength));
        bytes.AsSpan(PrefixLength + written, padding).Fill((byte)' ');
        bytes[^1] = (byte)'\n';
        return bytes;
    }
}
