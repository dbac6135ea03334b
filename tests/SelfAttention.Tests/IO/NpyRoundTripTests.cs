using SelfAttention.IO;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.IO;

/// <summary>Write then read: shapes from 0-d to rank 4, empty dimensions, ragged sizes, and every special float value.</summary>
public class NpyRoundTripTests
{
    public static TheoryData<int[]> Shapes => new(
        [], [0], [1], [7], [3, 4], [2, 3, 5], [2, 0, 3], [0, 5], [5, 0], [1, 1, 1, 1], [31, 33], [4, 17, 9], [3, 1, 2, 7], [1000], [257, 3]);

    /// <summary>Values that a conversion or a byte-order slip would change: NaNs with payloads, ±∞, −0, denormals, the extremes.</summary>
    private static readonly float[] Specials =
    [
        float.NaN, -float.NaN, BitConverter.Int32BitsToSingle(0x7FC0_1234), BitConverter.Int32BitsToSingle(0x7F80_0001),
        float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, float.Epsilon, -float.Epsilon, 1e-40f, -1.17549421e-38f,
        float.MaxValue, float.MinValue, 1f, -1f, MathF.PI, 1f / 3, 16777217f, BitConverter.Int32BitsToSingle(0x0080_0000),
    ];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float32_RoundTripsBitExactly(int[] shape)
    {
        float[] data = Values(shape, new Random(TestInputs.DefaultSeed));
        byte[] file = WriteToBytes(data, shape);

        NpyArray array = Npy.Read(new MemoryStream(file));
        string context = $"float32 {Describe(shape)}";
        NpyAssert.ShapeIs(shape, array, context);
        Assert.Equal(NpyDataType.Float32, array.StoredType);
        Assert.Equal(shape.Length, array.Rank);
        Assert.Equal(data.Length, array.ElementCount);
        NpyAssert.BitwiseEqual(data, array.Data, context);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float64_RoundTripsRoundedToFloat32(int[] shape)
    {
        var rng = new Random(TestInputs.DefaultSeed + 1);
        double[] data = [.. Values(shape, rng).Select((value, index) => index % 2 == 0 ? value : value * (1 + rng.NextDouble() * 1e-6))];
        var stream = new MemoryStream();
        Npy.Write(stream, data, shape);

        NpyArray array = Npy.Read(new MemoryStream(stream.ToArray()));
        string context = $"float64 {Describe(shape)}";
        NpyAssert.ShapeIs(shape, array, context);
        Assert.Equal(NpyDataType.Float64, array.StoredType);
        NpyAssert.RoundedFrom(data, array.Data, context);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardOnlyStreamWithShortReads_ReadsTheSame(int[] shape)
    {
        float[] data = Values(shape, new Random(3));
        byte[] file = WriteToBytes(data, shape);
        var stream = new TrickleStream(file, maxRead: 5);

        NpyArray array = Npy.Read(stream);
        NpyAssert.ShapeIs(shape, array, Describe(shape));
        NpyAssert.BitwiseEqual(data, array.Data, Describe(shape));
        Assert.Equal(file.Length, stream.Consumed);
    }

    /// <summary>Read consumes exactly one array, so arrays written back to back come out in order.</summary>
    [Fact]
    public void ConsecutiveArraysInOneStream_ReadInOrder()
    {
        var stream = new MemoryStream();
        Npy.Write(stream, [1f, 2f, 3f], [3]);
        Npy.Write(stream, [4.5, 5.5], [2, 1]);
        Npy.Write(stream, [6f], []);
        stream.Position = 0;

        Assert.Equal([1f, 2f, 3f], Npy.Read(stream).Data);
        NpyArray second = Npy.Read(stream);
        Assert.Equal([4.5f, 5.5f], second.Data);
        Assert.Equal(NpyDataType.Float64, second.StoredType);
        Assert.Equal([6f], Npy.Read(stream).Data);
        Assert.Equal(stream.Length, stream.Position);
    }

    /// <summary>A 0-d array (a numpy scalar) has shape () and one element.</summary>
    [Fact]
    public void ZeroDimensionalArray_HasEmptyShapeAndOneElement()
    {
        NpyArray array = Npy.Read(new MemoryStream(WriteToBytes([42.5f], [])));
        Assert.Empty(array.Shape);
        Assert.Equal(0, array.Rank);
        Assert.Equal([42.5f], array.Data);
        Assert.Equal("() float32", array.ToString());
    }

    [Fact]
    public void ToString_ShowsShapeAsPythonDoesAndStoredType()
    {
        var stream = new MemoryStream();
        Npy.Write(stream, new double[6], [2, 3]);
        Npy.Write(stream, new float[5], [5]);
        stream.Position = 0;
        Assert.Equal("(2, 3) float64", Npy.Read(stream).ToString());
        Assert.Equal("(5,) float32", Npy.Read(stream).ToString());
    }

    /// <summary>A large array crosses the reader's float64 conversion chunks and a non-multiple tail.</summary>
    [Fact]
    public void LargeFloat64Array_ConvertsAcrossChunks()
    {
        var rng = new Random(11);
        double[] data = new double[3 * 8192 + 5];
        for (int index = 0; index < data.Length; index++)
        {
            data[index] = (rng.NextDouble() - 0.5) * Math.Pow(2, rng.Next(-140, 130));
        }

        var stream = new MemoryStream();
        Npy.Write(stream, data, [47, 523]);
        NpyAssert.RoundedFrom(data, Npy.Read(new MemoryStream(stream.ToArray())).Data, "24581 doubles");
        NpyAssert.RoundedFrom(data, Npy.Read(new TrickleStream(stream.ToArray(), maxRead: 4099)).Data, "24581 doubles, forward-only");
    }

    [Fact]
    public void Files_RoundTripAndReplaceAnExistingFile()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, "q.npy");
        Npy.WriteFile(path, [1f, 2f, 3f, 4f, 5f, 6f], [2, 3]);
        NpyArray first = Npy.ReadFile(path);
        NpyAssert.ShapeIs([2, 3], first, path);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], first.Data);

        Npy.WriteFile(path, [0.5, -0.25], [1, 2]);
        NpyArray second = Npy.ReadFile(path);
        NpyAssert.ShapeIs([1, 2], second, path);
        Assert.Equal(NpyDataType.Float64, second.StoredType);
        Assert.Equal([0.5f, -0.25f], second.Data);
        Assert.Equal(["q.npy"], folder.FileNames());
    }

    internal static byte[] WriteToBytes(float[] data, int[] shape)
    {
        var stream = new MemoryStream();
        Npy.Write(stream, data, shape);
        return stream.ToArray();
    }

    internal static string Describe(int[] shape) => shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";

    /// <summary>The specials first, then random values of every magnitude.</summary>
    private static float[] Values(int[] shape, Random rng)
    {
        int count = shape.Aggregate(1, (product, dimension) => product * dimension);
        float[] values = new float[count];
        for (int index = 0; index < count; index++)
        {
            values[index] = index < Specials.Length ? Specials[index] : (float)((rng.NextDouble() - 0.5) * Math.Pow(2, rng.Next(-150, 128)));
        }

        return values;
    }
}
