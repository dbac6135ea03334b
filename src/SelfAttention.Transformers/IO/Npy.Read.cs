using System.Buffers;
using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text;

namespace SelfAttention.IO;

/// <summary>
/// Reads and writes NumPy <c>.npy</c> files (format versions 1.0, 2.0 and 3.0, NEP 1) holding C-ordered little-endian
/// float32 or float64 arrays: what <c>np.save</c> writes for <c>np.float32</c> and <c>np.float64</c> arrays. Other
/// dtypes, big-endian and Fortran-ordered data are refused with a <see cref="NpyFormatException"/> that says how to
/// convert them. Needs a little-endian host (every x64 and Arm64 .NET platform).
/// </summary>
public static partial class Npy
{
    // Elements move between streams and arrays in slices of this many bytes, so that no span's byte length overflows
    // int and a float64 conversion buffer stays small.
    private const int ChunkBytes = 1 << 26;
    private const int ConversionChunk = 8192;

    // A stream that cannot say its length gets a data buffer of this many elements first, doubled as the bytes arrive:
    // a header that claims more than the stream holds costs memory in proportion to what the stream delivered.
    private const int FirstForwardOnlyChunk = 4096;

    /// <summary>
    /// The longest header <see cref="Read"/> accepts, in bytes: numpy's default <c>max_header_size</c>, beyond which
    /// <c>np.load</c> refuses a file too. A header of <see cref="MaxRank"/> dimensions takes under 1 KB.
    /// </summary>
    public const int MaxHeaderLength = 10_000;

    /// <summary>The most dimensions an array may have, read or written: numpy's own limit (<c>NPY_MAXDIMS</c> in numpy 2).</summary>
    public const int MaxRank = 64;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Reads one array from <paramref name="stream"/>, from its current position, converting float64 elements to the
    /// nearest float32. Reads exactly the header and the data, so consecutive arrays in one stream can be read by
    /// repeated calls; bytes after the data are left unread (numpy ignores them too).
    /// </summary>
    /// <param name="stream">A readable stream positioned at the magic string <c>\x93NUMPY</c>.</param>
    /// <returns>The array: shape, stored element type, and float32 data in row-major order.</returns>
    /// <remarks>
    /// Hostile input costs little: the header may be at most <see cref="MaxHeaderLength"/> bytes and its brackets may
    /// nest at most 32 levels deep (a header needs 2), so parsing takes time and memory in proportion to the header.
    /// A seekable stream is checked to hold the whole array before the array is allocated; a stream that cannot tell
    /// its length is read into a buffer that grows with the bytes it delivers, so a header that claims more data than
    /// the stream holds fails at the stream's end having allocated about twice what was read.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="stream"/> cannot be read (write-only or disposed).</exception>
    /// <exception cref="NpyFormatException">
    /// The stream is not a <c>.npy</c> file (bad magic or version, malformed header, a header longer than
    /// <see cref="MaxHeaderLength"/> or nested too deeply), describes an unsupported array (dtype other than
    /// float32/float64, big-endian, Fortran order, more than <see cref="MaxRank"/> dimensions or
    /// <see cref="Array.MaxLength"/> elements), or ends before the header or the data does.
    /// </exception>
    /// <exception cref="IOException">The stream failed.</exception>
    /// <exception cref="PlatformNotSupportedException">The host is big-endian.</exception>
    public static NpyArray Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead)
        {
            throw new ArgumentException("stream: expected a readable stream, actual one that cannot be read (write-only or disposed).", nameof(stream));
        }

        EnsureLittleEndian();
        NpyHeader header = ReadHeader(stream);
        return new NpyArray(header.Shape, header.Type, ReadData(stream, header));
    }

    /// <summary>Reads the array in the file at <paramref name="path"/>; see <see cref="Read"/>.</summary>
    /// <param name="path">The <c>.npy</c> file.</param>
    /// <returns>The array: shape, stored element type, and float32 data in row-major order.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="NpyFormatException">As for <see cref="Read"/>; the message starts with <paramref name="path"/>.</exception>
    /// <exception cref="IOException">The file cannot be opened or read (<see cref="FileNotFoundException"/> if it does not exist).</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    /// <exception cref="PlatformNotSupportedException">The host is big-endian.</exception>
    public static NpyArray ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 4096, FileOptions.SequentialScan);
        try
        {
            return Read(stream);
        }
        catch (NpyFormatException exception)
        {
            throw new NpyFormatException($"{NpyErrors.Escape(path)}: {exception.Message}", exception);
        }
    }

    private static NpyHeader ReadHeader(Stream stream)
    {
        // Magic string (6 bytes) and version (major, minor).
        Span<byte> prefix = stackalloc byte[8];
        int read = stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
        if (read == 0)
        {
            throw NpyErrors.EmptyStream();
        }

        if (read < NpyHeader.Magic.Length || !prefix[..NpyHeader.Magic.Length].SequenceEqual(NpyHeader.Magic))
        {
            throw NpyErrors.BadMagic(prefix[..Math.Min(read, NpyHeader.Magic.Length)]);
        }

        if (read < prefix.Length)
        {
            throw NpyErrors.TruncatedPrefix("format version", 2, read - NpyHeader.Magic.Length);
        }

        byte major = prefix[6], minor = prefix[7];
        if (major is < 1 or > 3 || minor != 0)
        {
            throw NpyErrors.UnsupportedVersion(major, minor);
        }

        // Header length: uint16 in version 1.0, uint32 in 2.0 and 3.0.
        int lengthSize = major == 1 ? sizeof(ushort) : sizeof(uint);
        Span<byte> lengthBytes = prefix[..lengthSize];
        read = stream.ReadAtLeast(lengthBytes, lengthSize, throwOnEndOfStream: false);
        if (read < lengthSize)
        {
            throw NpyErrors.TruncatedPrefix("header length", lengthSize, read);
        }

        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes) : BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderLength)
        {
            throw NpyErrors.HeaderTooLong(headerLength);
        }

        long available = Remaining(stream);
        if (available >= 0 && available < headerLength)
        {
            throw NpyErrors.TruncatedHeader(headerLength, available);
        }

        byte[] headerBytes = new byte[headerLength];
        read = stream.ReadAtLeast(headerBytes, headerBytes.Length, throwOnEndOfStream: false);
        if (read < headerBytes.Length)
        {
            throw NpyErrors.TruncatedHeader(headerLength, read);
        }

        string text;
        try
        {
            text = major == 3 ? StrictUtf8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        }
        catch (DecoderFallbackException exception)
        {
            throw NpyErrors.HeaderNotUtf8(exception);
        }

        return NpyHeader.Parse(text);
    }

    /// <summary>
    /// The <see cref="NpyHeader.ElementCount"/> elements that follow the header, as float32. The array is allocated
    /// whole once a seekable stream has shown it holds the data; otherwise it grows by doubling as the data arrives.
    /// </summary>
    private static float[] ReadData(Stream stream, NpyHeader header)
    {
        int count = header.ElementCount;
        if (count == 0)
        {
            return [];
        }

        long available = Remaining(stream);
        if (available >= 0)
        {
            if (available < header.DataLength)
            {
                throw Truncated(header, available);
            }

            float[] whole = GC.AllocateUninitializedArray<float>(count);
            ReadElements(stream, whole, header, 0);
            return whole;
        }

        float[] data = GC.AllocateUninitializedArray<float>(Math.Min(count, FirstForwardOnlyChunk));
        ReadElements(stream, data, header, 0);
        while (data.Length < count)
        {
            // Grown only once the current buffer is full, so what is allocated stays within about twice what arrived.
            float[] grown = GC.AllocateUninitializedArray<float>((int)Math.Min(2L * data.Length, count));
            data.CopyTo(grown, 0);
            ReadElements(stream, grown.AsSpan(data.Length), header, data.Length);
            data = grown;
        }

        return data;
    }

    /// <summary>Fills <paramref name="data"/>, elements <paramref name="offset"/> onward of the array, from the stream.</summary>
    private static void ReadElements(Stream stream, Span<float> data, NpyHeader header, int offset)
    {
        if (header.Type == NpyDataType.Float32)
        {
            ReadSingles(stream, data, header, offset);
        }
        else
        {
            ReadDoublesAsSingles(stream, data, header, offset);
        }
    }

    // data: elements offset… of the array, filled straight from the stream's little-endian bytes.
    private static void ReadSingles(Stream stream, Span<float> data, NpyHeader header, int offset)
    {
        const int Chunk = ChunkBytes / sizeof(float);
        for (int start = 0; start < data.Length; start += Chunk)
        {
            Span<byte> bytes = MemoryMarshal.AsBytes(data.Slice(start, Math.Min(Chunk, data.Length - start)));
            int read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            if (read < bytes.Length)
            {
                throw Truncated(header, (((long)offset + start) * sizeof(float)) + read);
            }
        }
    }

    // data: elements offset… of the array; the doubles pass through a pooled buffer of ConversionChunk elements.
    private static void ReadDoublesAsSingles(Stream stream, Span<float> data, NpyHeader header, int offset)
    {
        double[] buffer = ArrayPool<double>.Shared.Rent(Math.Min(data.Length, ConversionChunk));
        try
        {
            for (int start = 0; start < data.Length; start += buffer.Length)
            {
                Span<double> chunk = buffer.AsSpan(0, Math.Min(buffer.Length, data.Length - start));
                Span<byte> bytes = MemoryMarshal.AsBytes(chunk);
                int read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
                if (read < bytes.Length)
                {
                    throw Truncated(header, (((long)offset + start) * sizeof(double)) + read);
                }

                // double → float is IEEE rounding to nearest, ties to even (the "truncating" in the name is about range:
                // magnitudes beyond float.MaxValue become ±∞, as (float)x does).
                TensorPrimitives.ConvertTruncating<double, float>(chunk, data.Slice(start, chunk.Length));
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(buffer);
        }
    }

    /// <summary>Bytes left in a seekable stream; −1 when the stream cannot tell.</summary>
    private static long Remaining(Stream stream) => stream.CanSeek ? Math.Max(0, stream.Length - stream.Position) : -1;

    private static NpyFormatException Truncated(NpyHeader header, long found) =>
        NpyErrors.TruncatedData(header.DataLength, NpyHeader.FormatShape(header.Shape), NpyHeader.Descr(header.Type), found);

    private static void EnsureLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException(
                "SelfAttention.IO.Npy moves little-endian data in place: expected a little-endian host, actual big-endian.");
        }
    }
}
