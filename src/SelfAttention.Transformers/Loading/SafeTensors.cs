using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using SelfAttention.IO;

namespace SelfAttention.Transformers;

/// <summary>
/// Reads and writes the safetensors format (Hugging Face's weight files): an 8-byte little-endian header length N,
/// N bytes of JSON mapping each tensor's name to its <c>dtype</c>, <c>shape</c> and <c>data_offsets</c> (begin and end,
/// relative to the data that follows the header) plus an optional <c>__metadata__</c> map of strings, then the data.
/// Reading checks everything before it trusts it (the header's length against the file, each tensor's byte range
/// against the data and against its shape, no two tensors sharing bytes) and widens F32, F16 and BF16 to float32;
/// writing stores F32 with the tensors in name order, all or nothing (a hidden temporary file beside the target, renamed
/// over it), so a failed write never leaves a half-written file.
/// </summary>
public static class SafeTensors
{
    /// <summary>The largest header read: the format's own limit, 100 MB.</summary>
    public const int MaxHeaderBytes = 100_000_000;

    /// <summary>Reads every tensor of a file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The tensors by name, and the metadata (empty when there is none).</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is not a valid safetensors file, or holds a type other than F32, F16 and BF16.</exception>
    public static (IReadOnlyDictionary<string, SafeTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path}: no such file (expected a safetensors file).", path);
        if (info.Length > Array.MaxLength)
        {
            throw new ModelFormatException(path, string.Create(CultureInfo.InvariantCulture, $"the file has {info.Length} bytes; this reader takes at most {Array.MaxLength}."));
        }

        byte[] file = File.ReadAllBytes(path);
        if (file.Length < 8) Fail(path, string.Create(CultureInfo.InvariantCulture, $"the file has {file.Length} bytes; a safetensors file starts with an 8-byte header length."));
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > MaxHeaderBytes || headerLength > (ulong)(file.Length - 8))
        {
            Fail(path, string.Create(CultureInfo.InvariantCulture, $"the header claims {headerLength} bytes; the file holds {file.Length - 8} after the length, and a header is at most {MaxHeaderBytes}."));
        }

        int dataStart = 8 + (int)headerLength;
        long dataLength = file.Length - dataStart;
        var tensors = new Dictionary<string, SafeTensor>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var ranges = new List<(long Begin, long End, string Name)>();
        try
        {
            using JsonDocument header = JsonDocument.Parse(file.AsMemory(8, (int)headerLength), new JsonDocumentOptions { MaxDepth = 8 });
            if (header.RootElement.ValueKind != JsonValueKind.Object) Fail(path, "the header is not a JSON object.");
            foreach (JsonProperty entry in header.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    if (entry.Value.ValueKind != JsonValueKind.Object) Fail(path, "__metadata__ is not an object of strings.");
                    foreach (JsonProperty m in entry.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String) Fail(path, $"__metadata__.{m.Name} is not a string.");
                        metadata[m.Name] = m.Value.GetString()!;
                    }

                    continue;
                }

                (string dtype, int[] shape, long begin, long end) = Describe(path, entry);
                int size = dtype switch { "F32" => 4, "F16" or "BF16" => 2, _ => 0 };
                if (size == 0) Fail(path, $"tensor {entry.Name} has dtype {dtype}; this reader takes F32, F16 and BF16.");
                long count = 1;
                foreach (int dim in shape)
                {
                    count *= dim;
                    if (count > Array.MaxLength) Fail(path, $"tensor {entry.Name} has shape [{string.Join(", ", shape)}]: more elements than an array holds.");
                }

                if (begin > end || end > dataLength || end - begin != count * size)
                {
                    Fail(path, string.Create(CultureInfo.InvariantCulture,
                        $"tensor {entry.Name} has data_offsets [{begin}, {end}]; its shape [{string.Join(", ", shape)}] of {dtype} needs {count * size} bytes inside the {dataLength} bytes of data."));
                }

                ranges.Add((begin, end, entry.Name));
                tensors[entry.Name] = new SafeTensor(shape, Widen(file.AsSpan(dataStart + (int)begin, (int)(end - begin)), dtype, (int)count));
            }
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, $"the header is not valid JSON ({e.Message}).", e);
        }

        ranges.Sort((a, b) => a.Begin.CompareTo(b.Begin));
        for (int i = 1; i < ranges.Count; i++)
        {
            if (ranges[i].Begin < ranges[i - 1].End)
            {
                Fail(path, $"tensors {ranges[i - 1].Name} and {ranges[i].Name} share bytes.");
            }
        }

        return (tensors, metadata);
    }

    /// <summary>Writes tensors as F32, in name order, to <paramref name="path"/> (replacing it only once the whole file is written).</summary>
    /// <param name="path">The file.</param>
    /// <param name="tensors">The tensors by name; each one's values as many as its shape's product, sizes ≥ 0. Names must not be <c>__metadata__</c>.</param>
    /// <param name="metadata">String metadata stored in the header; null for none.</param>
    /// <exception cref="ArgumentException">A path, name or tensor is invalid (naming it).</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Write(string path, IReadOnlyDictionary<string, SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        string[] names = [.. tensors.Keys];
        Array.Sort(names, StringComparer.Ordinal);
        using var headerStream = new MemoryStream();
        long offset = 0;
        using (var json = new Utf8JsonWriter(headerStream))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (KeyValuePair<string, string> m in metadata)
                {
                    json.WriteString(m.Key, m.Value);
                }

                json.WriteEndObject();
            }

            foreach (string name in names)
            {
                SafeTensor tensor = tensors[name];
                if (name.Length == 0 || name == "__metadata__") throw new ArgumentException($"tensors: the name \"{name}\" is not allowed.", nameof(tensors));
                if (tensor?.Shape is null || tensor.Values is null) throw new ArgumentException($"tensors[{name}]: expected a shape and values, actual null.", nameof(tensors));
                long count = 1;
                foreach (int dim in tensor.Shape)
                {
                    if (dim < 0) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"tensors[{name}].Shape: expected sizes ≥ 0, actual {dim}."), nameof(tensors));
                    count *= dim;
                }

                if (count != tensor.Values.Length)
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"tensors[{name}].Values.Length: expected {count} (the shape's product), actual {tensor.Values.Length}."), nameof(tensors));
                }

                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (int dim in tensor.Shape) json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + count * 4);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += count * 4;
            }

            json.WriteEndObject();
        }

        // The format pads the header with spaces to a multiple of 8 bytes, so the data is aligned.
        while (headerStream.Length % 8 != 0) headerStream.WriteByte((byte)' ');
        AtomicFile.Write(path, output =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)headerStream.Length);
            output.Write(length);
            headerStream.Position = 0;
            headerStream.CopyTo(output);
            foreach (string name in names)
            {
                float[] values = tensors[name].Values;
                if (BitConverter.IsLittleEndian)
                {
                    output.Write(MemoryMarshal.AsBytes(values.AsSpan()));
                }
                else
                {
                    var bytes = new byte[4];
                    foreach (float v in values)
                    {
                        BinaryPrimitives.WriteSingleLittleEndian(bytes, v);
                        output.Write(bytes);
                    }
                }
            }
        });
    }

    private static (string Dtype, int[] Shape, long Begin, long End) Describe(string path, JsonProperty entry)
    {
        JsonElement value = entry.Value, dtype = default, shape = default, offsets = default;
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("dtype", out dtype) || dtype.ValueKind != JsonValueKind.String
            || !value.TryGetProperty("shape", out shape) || shape.ValueKind != JsonValueKind.Array
            || !value.TryGetProperty("data_offsets", out offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
        {
            Fail(path, $"tensor {entry.Name} lacks a dtype string, a shape array or a data_offsets pair.");
        }

        var dims = new int[shape.GetArrayLength()];
        int i = 0;
        foreach (JsonElement dim in shape.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt32(out dims[i]) || dims[i] < 0)
            {
                Fail(path, $"tensor {entry.Name} has a shape entry {dim.GetRawText()}; expected an integer ≥ 0 below 2³¹.");
            }

            i++;
        }

        long[] range = new long[2];
        i = 0;
        foreach (JsonElement o in offsets.EnumerateArray())
        {
            if (o.ValueKind != JsonValueKind.Number || !o.TryGetInt64(out range[i]) || range[i] < 0)
            {
                Fail(path, $"tensor {entry.Name} has a data offset {o.GetRawText()}; expected an integer ≥ 0.");
            }

            i++;
        }

        return (dtype.GetString()!, dims, range[0], range[1]);
    }

    private static float[] Widen(ReadOnlySpan<byte> bytes, string dtype, int count)
    {
        var values = new float[count];
        switch (dtype)
        {
            case "F32" when BitConverter.IsLittleEndian:
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(values);
                break;
            case "F32":
                for (int i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]);
                break;
            case "F16":
                for (int i = 0; i < count; i++) values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(i * 2)..]);
                break;
            default: // BF16: the upper half of a float32.
                for (int i = 0; i < count; i++) values[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(i * 2)..]) << 16);
                break;
        }

        return values;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(string path, string problem) => throw new ModelFormatException(path, problem);
}
