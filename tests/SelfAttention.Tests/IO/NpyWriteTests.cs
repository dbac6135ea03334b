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

    /// <summary>A header that does not fit a uint16 length switches to version 2.0, exactly where numpy switches.</summary>
    [Fact]
    public void Header_UsesVersion2OnlyWhenVersion1CannotHoldIt()
    {
        bool sawVersion1 = false, sawVersion2 = false;
        for (int rank = 21_795; rank <= 21_830; rank++)
        {
            int[] shape = [.. Enumerable.Repeat(1, rank)];
            byte[] file = Write(new float[1], shape);
            byte[] expected = NpyBytes.NumpySaveHeader("<f4", shape);
            Assert.True(expected.AsSpan().SequenceEqual(file.AsSpan(0, expected.Length)), $"rank {rank}: header differs from numpy's.");
            Assert.True((file.Length - 4) % 64 == 0, $"rank {rank}: the data starts at {file.Length - 4}.");
            sawVersion1 |= file[6] == 1;
            sawVersion2 |= file[6] == 2;
            if (rank == 21_830)
            {
                NpyArray array = Npy.Read(new MemoryStream(file));
                Assert.Equal(rank, array.Rank);
            }
        }

        Assert.True(sawVersion1 && sawVersion2, "The ranks tried should cross the 1.0 → 2.0 boundary.");
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
        Assert.Equal(["taken.npy"], folder.FileNames());
        Assert.Empty(Directory.EnumerateFileSystemEntries(target));
    }

    [Fact]
    public void WriteFile_MissingFolder_IsAnIOFailureAndCreatesNothing()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, "absent", "out.npy");
        Assert.Throws<DirectoryNotFoundException>(() => Npy.WriteFile(path, [1f], [1]));
        Assert.Empty(folder.FileNames());
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
