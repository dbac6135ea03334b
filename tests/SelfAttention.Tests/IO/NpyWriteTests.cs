using System.Text;
using SelfAttention.IO;
using SelfAttention.Tests.Validation;
using Xunit;

namespace SelfAttention.Tests.IO;

/// <summary>The writer's bytes are what np.save writes; bad arguments write nothing; a failed file write leaves nothing behind.</summary>
public class NpyWriteTests
{
    [Theory]
    [InlineData(new int[0], "()")]
    [InlineData(new[] { 5 }, "(5,)")]
    [InlineData(new[] { 2, 3 }, "(2, 3)")]
    [InlineData(new[] { 1, 0, 12345 }, "(1, 0, 12345)")]
    public void FormatShape_IsPythonsTupleRepr(int[] shape, string expected) => Assert.Equal(expected, Npy.FormatShape(shape));

    /// <summary>np.save(f, np.zeros((3, 4), np.float32)) with numpy ≥ 1.24: a 118-byte header, the data at byte 128.</summary>
    [Fact]
    public void Header_IsByteForByteWhatNumpySaveWrites()
    {
        byte[] file = NpyRoundTripTests.WriteToBytes(new float[12], [3, 4]);
        Assert.Equal([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 118, 0], file[..10]);
        string expectedText = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }" + new string(' ', 20 + 38) + "\n";
        Assert.Equal(expectedText, NpyBytes.HeaderText(file, out int dataOffset));
        Assert.Equal(128, dataOffset);
        Assert.Equal(128 + 48, file.Length);
    }

    public static TheoryData<int[]> Shapes => new(
        [], [0], [1], [5], [3, 4], [2, 0, 3], [123456789, 0], [0, 2147483647], [1, 1, 1, 1, 1, 1, 1, 1], [10, 200, 3000, 0]);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Header_FollowsTheFormatRulesAndMatchesNumpy(int[] shape)
    {
        foreach (var (descr, file) in new[] { ("<f4", Write(new float[Count(shape)], shape)), ("<f8", Write(new double[Count(shape)], shape)) })
        {
            string context = $"{descr} {NpyRoundTripTests.Describe(shape)}";
            Assert.True(file.AsSpan(0, 6).SequenceEqual(NpyBytes.Magic), $"{context}: no magic string.");
            Assert.True(file[6] == 1 && file[7] == 0, $"{context}: expected version 1.0, actual {file[6]}.{file[7]}.");
            string text = NpyBytes.HeaderText(file, out int dataOffset);
            Assert.True(dataOffset % 64 == 0, $"{context}: the data starts at {dataOffset}, expected a multiple of 64.");
            Assert.True(text.EndsWith('\n') && text.IndexOf('\n') == text.Length - 1, $"{context}: the header must end with its only '\\n'.");
            string dict = NpyBytes.Dict(descr, NpyRoundTripTests.Describe(shape));
            Assert.True(text.StartsWith(dict, StringComparison.Ordinal) && text[dict.Length..^1].All(c => c == ' '),
                $"{context}: expected the dict {dict} then spaces, actual {text}");
            Assert.Equal(NpyBytes.NumpySaveHeader(descr, shape), file[..dataOffset]);
            Assert.Equal(dataOffset + (Count(shape) * (descr == "<f4" ? 4 : 8)), file.Length);
        }
    }

    /// <summary>
    /// The longest header the writer can make, numpy's 64 dimensions of 10 digits, is still version 1.0, numpy's bytes,
    /// within the header length the reader accepts, and reads back.
    /// </summary>
    [Fact]
    public void Header_AtTheHighestRank_IsVersion1AndNumpys()
    {
        int[] shape = [0, .. Enumerable.Repeat(int.MaxValue, Npy.MaxRank - 1)];
        byte[] file = Write(new float[0], shape);
        Assert.Equal(NpyBytes.NumpySaveHeader("<f4", shape), file);
        Assert.Equal(1, file[6]);
        Assert.True(file.Length - 10 <= Npy.MaxHeaderLength, $"header of {file.Length - 10} bytes");
        NpyArray array = Npy.Read(new MemoryStream(file));
        Assert.Equal(shape, array.Shape);
        Assert.Empty(array.Data);
    }

    /// <summary>numpy cannot make an array of more than 64 dimensions; such a shape is refused before anything is written.</summary>
    [Fact]
    public void MoreDimensionsThanNumpyAllows_ThrowsBeforeWriting()
    {
        int[] shape = [.. Enumerable.Repeat(1, Npy.MaxRank + 1)];
        var stream = new MemoryStream();
        ArgumentException exception = ContractAssert.Throws(() => Npy.Write(stream, new float[1], shape), "shape", "rank 65 float32");
        NpyAssert.OneLineContaining(exception.Message, "expected at most 64 dimensions", "actual 65");
        ContractAssert.Throws(() => Npy.Write(stream, new double[1], shape), "shape", "rank 65 float64");
        Assert.Equal(0, stream.Length);

        using var folder = new TemporaryFolder();
        ContractAssert.Throws(() => Npy.WriteFile(Path.Combine(folder.Path, "o.npy"), new float[1], shape), "shape", "rank 65 file");
        Assert.Empty(folder.FileNames());
    }

    /// <summary>A stream that cannot be written (read-only, or disposed) is a bad argument, named, with nothing written.</summary>
    [Fact]
    public void StreamThatCannotBeWritten_IsAnArgumentException()
    {
        byte[] backing = [1, 2, 3, 4];
        var readOnly = new MemoryStream(backing, writable: false);
        var disposed = new MemoryStream();
        disposed.Dispose();
        foreach (Stream stream in new Stream[] { readOnly, disposed, new TrickleStream(backing) })
        {
            ArgumentException single = ContractAssert.Throws(() => Npy.Write(stream, [1f], [1]), "stream", $"float32 to {stream.GetType().Name}");
            NpyAssert.OneLineContaining(single.Message, "expected a writable stream");
            ContractAssert.Throws(() => Npy.Write(stream, [1d], [1]), "stream", $"float64 to {stream.GetType().Name}");
        }

        Assert.Equal([1, 2, 3, 4], backing);
    }

    /// <summary>The reader's twin: a stream that cannot be read is a named bad argument, not NotSupportedException.</summary>
    [Fact]
    public void StreamThatCannotBeRead_IsAnArgumentException()
    {
        using var folder = new TemporaryFolder();
        using var writeOnly = new FileStream(Path.Combine(folder.Path, "w.npy"), FileMode.Create, FileAccess.Write);
        var disposed = new MemoryStream(NpyRoundTripTests.WriteToBytes([1f], [1]));
        disposed.Dispose();
        foreach (Stream stream in new Stream[] { writeOnly, disposed })
        {
            ArgumentException exception = ContractAssert.Throws(() => Npy.Read(stream), "stream", $"read from {stream.GetType().Name}");
            NpyAssert.OneLineContaining(exception.Message, "expected a readable stream");
        }

        Assert.Equal(0, writeOnly.Length);
    }

    [Fact]
    public void NegativeDimension_ThrowsBeforeWriting()
    {
        var stream = new MemoryStream();
        ArgumentException exception = ContractAssert.Throws(() => Npy.Write(stream, new float[6], [2, -3]), "shape", "shape (2, -3)");
        Assert.Contains("shape[1]", exception.Message, StringComparison.Ordinal);
        ContractAssert.Throws(() => Npy.Write(stream, new double[0], [-1, 0]), "shape", "shape (-1, 0)");
        Assert.Equal(0, stream.Length);
    }

    [Theory]
    [InlineData(new[] { 2, 3 }, 5, "expected 6, actual 5")]
    [InlineData(new[] { 2, 3 }, 7, "expected 6, actual 7")]
    [InlineData(new int[0], 0, "expected 1, actual 0")]
    [InlineData(new[] { 4 }, 0, "expected 4, actual 0")]
    [InlineData(new[] { 0 }, 1, "expected 0, actual 1")]
    [InlineData(new[] { 65536, 65536 }, 0, "expected more than 2147483647, actual 0")]
    [InlineData(new[] { 65536, 65536, 65536, 65536, 65536, 0 }, 3, "expected 0, actual 3")]
    public void DataLengthMismatch_ThrowsBeforeWriting(int[] shape, int length, string expectedActual)
    {
        var stream = new MemoryStream();
        ArgumentException single = ContractAssert.Throws(() => Npy.Write(stream, new float[length], shape), "data", $"float32 {length} for {NpyRoundTripTests.Describe(shape)}");
        ArgumentException dbl = ContractAssert.Throws(() => Npy.Write(stream, new double[length], shape), "data", $"float64 {length} for {NpyRoundTripTests.Describe(shape)}");
        foreach (string message in new[] { single.Message, dbl.Message })
        {
            NpyAssert.OneLineContaining(message, $"shape {NpyRoundTripTests.Describe(shape)}", expectedActual);
        }

        Assert.Equal(0, stream.Length);
    }

    [Fact]
    public void NullStream()
    {
        Assert.Throws<ArgumentNullException>("stream", () => Npy.Write(null!, new float[1], []));
        Assert.Throws<ArgumentNullException>("stream", () => Npy.Write(null!, new double[1], []));
    }

    [Fact]
    public void WriteFile_BadArguments_TouchNoFile()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, "out.npy");
        ContractAssert.Throws(() => Npy.WriteFile(path, new float[5], [2, 3]), "data", "float32 file");
        ContractAssert.Throws(() => Npy.WriteFile(path, new double[5], [2, 3]), "data", "float64 file");
        ContractAssert.Throws(() => Npy.WriteFile(path, new float[6], [-2, -3]), "shape", "negative");
        Assert.Empty(folder.FileNames());

        Npy.WriteFile(path, [1f, 2f], [2]);
        byte[] before = File.ReadAllBytes(path);
        ContractAssert.Throws(() => Npy.WriteFile(path, new float[5], [6]), "data", "replacing a file");
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["out.npy"], folder.FileNames());

        Assert.Throws<ArgumentException>("path", () => Npy.WriteFile("", new float[1], []));
        Assert.Throws<ArgumentNullException>("path", () => Npy.WriteFile(null!, new float[1], []));
        ContractAssert.Throws(() => Npy.WriteFile(folder.Path + Path.DirectorySeparatorChar, new float[1], []), "path", "a folder path");
        Assert.Equal(["out.npy"], folder.FileNames());
    }

    /// <summary>When the final move fails (the target is a folder), the exception surfaces and the temporary file is gone.</summary>
    [Fact]
    public void WriteFile_FailedMove_LeavesNoTemporaryFile()
    {
        using var folder = new TemporaryFolder();
        string target = Path.Combine(folder.Path, "taken.npy");
        Directory.CreateDirectory(target);
        Exception exception = Assert.ThrowsAny<Exception>(() => Npy.WriteFile(target, [1f, 2f, 3f], [3]));
        Assert.True(exception is IOException or UnauthorizedAccessException, $"Expected an I/O failure, actual {exception.GetType().Name}: {exception.Message}");
        AssertNamesTheTarget(exception, target);
        Assert.Equal(["taken.npy"], folder.FileNames());
        Assert.Empty(Directory.EnumerateFileSystemEntries(target));
    }

    [Fact]
    public void WriteFile_MissingFolder_IsAnIOFailureAndCreatesNothing()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, "absent", "out.npy");
        var exception = Assert.Throws<DirectoryNotFoundException>(() => Npy.WriteFile(path, [1f], [1]));
        AssertNamesTheTarget(exception, path);
        Assert.Empty(folder.FileNames());
    }

    private static void AssertNamesTheTarget(Exception exception, string path)
    {
        Assert.Contains(path, exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(".tmp", exception.Message, StringComparison.Ordinal);
        Assert.NotNull(exception.InnerException);
    }

    /// <summary>WriteFile writes the same bytes as Write to a stream.</summary>
    [Fact]
    public void WriteFile_WritesTheSameBytesAsWrite()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, "v.npy");
        double[] data = [0.1, 0.2, 0.3, 0.4];
        Npy.WriteFile(path, data, [2, 2]);
        Assert.Equal(Write(data, [2, 2]), File.ReadAllBytes(path));
        Assert.StartsWith("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", Encoding.Latin1.GetString(File.ReadAllBytes(path), 10, 60), StringComparison.Ordinal);
    }

    private static byte[] Write(float[] data, int[] shape)
    {
        var stream = new MemoryStream();
        Npy.Write(stream, data, shape);
        return stream.ToArray();
    }

    private static byte[] Write(double[] data, int[] shape)
    {
        var stream = new MemoryStream();
        Npy.Write(stream, data, shape);
        return stream.ToArray();
    }

    private static int Count(int[] shape) => shape.Contains(0) ? 0 : shape.Aggregate(1, (product, dimension) => product * dimension);
}
