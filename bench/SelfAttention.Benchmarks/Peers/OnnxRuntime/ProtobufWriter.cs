using System.Buffers.Binary;
using System.Text;

namespace SelfAttention.Benchmarks.Peers.OnnxRuntime;

/// <summary>
/// The protobuf wire format, as much of it as an ONNX model needs: a field is a tag (<c>field number « 3 | wire
/// type</c>, a varint) followed by a varint (wire type 0: ints, enums), four little-endian bytes (type 5: float), or a
/// varint length and that many bytes (type 2: strings and nested messages). A nested message is written into its own
/// writer first, so its length is known when the parent writes it. Used once per session at set-up, never timed.
/// </summary>
internal sealed class ProtobufWriter
{
    private const int Varint = 0;
    private const int LengthDelimited = 2;
    private const int Fixed32 = 5;

    private readonly MemoryStream _stream = new();

    /// <summary>An int32, int64 or enum field (negative values take ten bytes, as protobuf's int64 does).</summary>
    public ProtobufWriter Int64(int field, long value)
    {
        Tag(field, Varint);
        WriteVarint(unchecked((ulong)value));
        return this;
    }

    /// <summary>A float field.</summary>
    public ProtobufWriter Float(int field, float value)
    {
        Tag(field, Fixed32);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        _stream.Write(bytes);
        return this;
    }

    /// <summary>A string field, UTF-8.</summary>
    public ProtobufWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>A nested message field: <paramref name="message"/> writes the message's own fields.</summary>
    public ProtobufWriter Message(int field, Action<ProtobufWriter> message)
    {
        var nested = new ProtobufWriter();
        message(nested);
        return Bytes(field, nested.ToArray());
    }

    /// <summary>The bytes written so far.</summary>
    public byte[] ToArray() => _stream.ToArray();

    private ProtobufWriter Bytes(int field, ReadOnlySpan<byte> bytes)
    {
        Tag(field, LengthDelimited);
        WriteVarint((ulong)bytes.Length);
        _stream.Write(bytes);
        return this;
    }

    private void Tag(int field, int wireType) => WriteVarint(((ulong)field << 3) | (uint)wireType);

    // Seven bits per byte, least significant first; the high bit says another byte follows.
    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        _stream.WriteByte((byte)value);
    }
}
