using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SelfAttention.IO;

public static partial class Npy
{
    /// <summary>
    /// Writes <paramref name="data"/> as a C-ordered float32 array (<c>'&lt;f4'</c>) of <paramref name="shape"/>, with the
    /// same header bytes <c>np.save</c> writes (format version 1.0).
    /// </summary>
    /// <param name="stream">A writable stream; the array is written at its current position.</param>
    /// <param name="data">The elements in row-major order; as many as the product of <paramref name="shape"/>.</param>
    /// <param name="shape">The dimensions, outermost first; empty for a 0-d array (one element).</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="stream"/> cannot be written (read-only or disposed), <paramref name="shape"/> has a negative
    /// dimension or more than <see cref="MaxRank"/> dimensions, or <paramref name="data"/> does not hold the product of
    /// the dimensions; nothing has been written.
    /// </exception>
    /// <exception cref="IOException">The stream failed; part of the array may have been written.</exception>
    /// <exception cref="PlatformNotSupportedException">The host is big-endian.</exception>
    public static void Write(Stream stream, ReadOnlySpan<float> data, ReadOnlySpan<int> shape)
    {
        ValidateStream(stream);
        EnsureLittleEndian();
        ValidateShape(data.Length, shape);
        WriteCore(stream, NpyDataType.Float32, data, shape);
    }

    /// <summary>
    /// Writes <paramref name="data"/> as a C-ordered float64 array (<c>'&lt;f8'</c>) of <paramref name="shape"/>; see
    /// <see cref="Write(Stream, ReadOnlySpan{float}, ReadOnlySpan{int})"/>.
    /// </summary>
    /// <param name="stream">A writable stream; the array is written at its current position.</param>
    /// <param name="data">The elements in row-major order; as many as the product of <paramref name="shape"/>.</param>
    /// <param name="shape">The dimensions, outermost first; empty for a 0-d array (one element).</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="stream"/> cannot be written (read-only or disposed), <paramref name="shape"/> has a negative
    /// dimension or more than <see cref="MaxRank"/> dimensions, or <paramref name="data"/> does not hold the product of
    /// the dimensions; nothing has been written.
    /// </exception>
    /// <exception cref="IOException">The stream failed; part of the array may have been written.</exception>
    /// <exception cref="PlatformNotSupportedException">The host is big-endian.</exception>
    public static void Write(Stream stream, ReadOnlySpan<double> data, ReadOnlySpan<int> shape)
    {
        ValidateStream(stream);
        EnsureLittleEndian();
        ValidateShape(data.Length, shape);
        WriteCore(stream, NpyDataType.Float64, data, shape);
    }

    /// <summary>
    /// Writes <paramref name="data"/> as a float32 <c>.npy</c> file at <paramref name="path"/>, replacing any file there.
    /// The array goes to a temporary file in the same folder, flushed to disk, which then replaces the target in one
    /// rename: a failed write leaves the old file (or no file) and no temporary file behind.
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="data">The elements in row-major order; as many as the product of <paramref name="shape"/>.</param>
    /// <param name="shape">The dimensions, outermost first; empty for a 0-d array (one element).</param>
    /// <exception cref="ArgumentException">
    /// <paramref name="path"/> is null, empty or names a folder, <paramref name="shape"/> has a negative dimension or more
    /// than <see cref="MaxRank"/> dimensions, or <paramref name="data"/> does not hold the product of the dimensions;
    /// no file has been touched.
    /// </exception>
    /// <exception cref="IOException">
    /// The file cannot be written or moved into place (<see cref="DirectoryNotFoundException"/> if its folder does not
    /// exist); the message names <paramref name="path"/>, never the temporary file, and any old file is left as it was.
    /// </exception>
    /// <exception cref="UnauthorizedAccessException">The folder or the file may not be written; the message names <paramref name="path"/>.</exception>
    /// <exception cref="PlatformNotSupportedException">The host is big-endian.</exception>
    public static void WriteFile(string path, ReadOnlySpan<float> data, ReadOnlySpan<int> shape) =>
        WriteFileCore(path, NpyDataType.Float32, data, shape);

    /// <summary>
    /// Writes <paramref name="data"/> as a float64 <c>.npy</c> file at <paramref name="path"/>, replacing any file there;
    /// see <see cref="WriteFile(string, ReadOnlySpan{float}, ReadOnlySpan{int})"/>.
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="data">The elements in row-major order; as many as the product of <paramref name="shape"/>.</param>
    /// <param name="shape">The dimensions, outermost first; empty for a 0-d array (one element).</param>
    /// <exception cref="ArgumentException">
    /// <paramref name="path"/> is null, empty or names a folder, <paramref name="shape"/> has a negative dimension or more
    /// than <see cref="MaxRank"/> dimensions, or <paramref name="data"/> does not hold the product of the dimensions;
    /// no file has been touched.
    /// </exception>
    /// <exception cref="IOException">
    /// The file cannot be written or moved into place (<see cref="DirectoryNotFoundException"/> if its folder does not
    /// exist); the message names <paramref name="path"/>, never the temporary file, and any old file is left as it was.
    /// </exception>
    /// <exception cref="UnauthorizedAccessException">The folder or the file may not be written; the message names <paramref name="path"/>.</exception>
    /// <exception cref="PlatformNotSupportedException">The host is big-endian.</exception>
    public static void WriteFile(string path, ReadOnlySpan<double> data, ReadOnlySpan<int> shape) =>
        WriteFileCore(path, NpyDataType.Float64, data, shape);

    private static void WriteFileCore<T>(string path, NpyDataType type, ReadOnlySpan<T> data, ReadOnlySpan<int> shape)
        where T : unmanaged
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        EnsureLittleEndian();
        ValidateShape(data.Length, shape);
        string temporary = AtomicFile.TemporaryBeside(path, out string fullPath);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1))
            {
                WriteCore(stream, type, data, shape);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, fullPath, overwrite: true);
        }
        catch (Exception exception)
        {
            Exception failure = AtomicFile.Failed(exception, temporary, path);
            if (ReferenceEquals(failure, exception))
            {
                throw;
            }

            throw failure;
        }
    }

    // data: [product of shape], already validated.
    private static void WriteCore<T>(Stream stream, NpyDataType type, ReadOnlySpan<T> data, ReadOnlySpan<int> shape)
        where T : unmanaged
    {
        stream.Write(NpyHeader.Format(type, shape));
        int chunk = ChunkBytes / Unsafe.SizeOf<T>();
        for (int start = 0; start < data.Length; start += chunk)
        {
            stream.Write(MemoryMarshal.AsBytes(data.Slice(start, Math.Min(chunk, data.Length - start))));
        }
    }

    private static void ValidateStream(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite)
        {
            throw new ArgumentException("stream: expected a writable stream, actual one that cannot be written (read-only or disposed).", nameof(stream));
        }
    }

    private static void ValidateShape(int length, ReadOnlySpan<int> shape)
    {
        if (shape.Length > MaxRank)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"shape: expected at most {MaxRank} dimensions (numpy's limit), actual {shape.Length}."), nameof(shape));
        }

        // The product saturates just above int.MaxValue, which no span length reaches (a later 0 still makes it 0).
        const long Saturated = (long)int.MaxValue + 1;
        long product = 1;
        for (int k = 0; k < shape.Length; k++)
        {
            if (shape[k] < 0)
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"shape[{k}] is negative: expected at least 0, actual {shape[k]}."), nameof(shape));
            }

            product = Math.Min(product * shape[k], Saturated);
        }

        if (product != length)
        {
            string expected = product == Saturated ? $"more than {int.MaxValue}" : product.ToString(CultureInfo.InvariantCulture);
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"data.Length must be the product of shape {NpyHeader.FormatShape(shape)}: expected {expected}, actual {length}."), "data");
        }
    }

    /// <summary>
    /// A shape as numpy prints it (Python's <c>repr</c> of a tuple): <c>()</c>, <c>(5,)</c>, <c>(2, 3)</c>; the form
    /// this class uses in headers and messages.
    /// </summary>
    /// <param name="shape">The dimensions.</param>
    /// <returns>The tuple text, invariant culture.</returns>
    public static string FormatShape(ReadOnlySpan<int> shape) => NpyHeader.FormatShape(shape);
}
