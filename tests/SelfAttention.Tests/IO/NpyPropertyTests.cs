using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SelfAttention.IO;
using Xunit;

namespace SelfAttention.Tests.IO;

/// <summary>Round trips and header spellings on random shapes and data, checked with FsCheck.</summary>
/// <remarks>A failure prints the counterexample and FsCheck's seed; <c>[Property(Replay = "(seed, gamma)")]</c> on the test reruns exactly that case.</remarks>
[Properties(MaxTest = 300)]
public class NpyPropertyTests
{
    /// <summary>Rank 0–5, dimensions 0–7, and a seed for the data (so a counterexample shrinks to a small shape).</summary>
    private static Gen<(int[] Shape, int Seed)> ShapeAndSeed =>
        from rank in Gen.Choose(0, 5)
        from shape in Gen.Choose(0, 7).ArrayOf(rank)
        from seed in Gen.Choose(0, int.MaxValue)
        select (shape, seed);

    /// <summary>Any float32 bit pattern (NaN payloads, denormals, ±0, ±∞ included) comes back with the same bits.</summary>
    [Property]
    public Property Float32_RoundTripsAnyBits()
    {
        return Prop.ForAll(ShapeAndSeed.ToArbitrary(), input =>
        {
            float[] data = RandomBits(input.Shape, input.Seed, bits => BitConverter.Int32BitsToSingle((int)bits));
            var stream = new MemoryStream();
            Npy.Write(stream, data, input.Shape);
            stream.Position = 0;
            NpyArray array = Npy.Read(stream);
            string context = $"{NpyRoundTripTests.Describe(input.Shape)} seed {input.Seed}";
            NpyAssert.ShapeIs(input.Shape, array, context);
            NpyAssert.BitwiseEqual(data, array.Data, context);
            Assert.Equal(stream.Length, stream.Position);
        });
    }

    /// <summary>Any float64 bit pattern comes back as the nearest float32, whichever stream kind is read.</summary>
    [Property]
    public Property Float64_RoundTripsToTheNearestFloat32()
    {
        var arbitrary = (from input in ShapeAndSeed
                         from forwardOnly in Gen.Elements(false, true)
                         select (input.Shape, input.Seed, ForwardOnly: forwardOnly)).ToArbitrary();
        return Prop.ForAll(arbitrary, input =>
        {
            double[] data = RandomBits(input.Shape, input.Seed, BitConverter.Int64BitsToDouble);
            var stream = new MemoryStream();
            Npy.Write(stream, data, input.Shape);
            NpyArray array = Npy.Read(input.ForwardOnly ? new TrickleStream(stream.ToArray(), 13) : new MemoryStream(stream.ToArray()));
            string context = $"{NpyRoundTripTests.Describe(input.Shape)} seed {input.Seed}";
            NpyAssert.ShapeIs(input.Shape, array, context);
            Assert.Equal(NpyDataType.Float64, array.StoredType);
            NpyAssert.RoundedFrom(data, array.Data, context);
        });
    }

    /// <summary>
    /// Hand-built files with a random spelling of the same header (key order, quotes, spaces, trailing commas, L
    /// suffixes, version, padding) all read as the same array.
    /// </summary>
    [Property]
    public Property AnyHeaderSpelling_ReadsTheSameArray()
    {
        var arbitrary = (from input in ShapeAndSeed
                         from order in Gen.Elements(Permutations)
                         from quote in Gen.Elements('\'', '"')
                         from spaces in Gen.Elements("", " ", "  ", "\n", " \t")
                         from trailingComma in Gen.Elements(false, true)
                         from suffix in Gen.Elements("", "L")
                         from major in Gen.Elements<byte>(1, 2, 3)
                         from align in Gen.Elements(1, 16, 64)
                         from newline in Gen.Elements(false, true)
                         select (input.Shape, input.Seed, Header: Header(input.Shape, order, quote, spaces, trailingComma, suffix), major, align, newline)).ToArbitrary();
        return Prop.ForAll(arbitrary, input =>
        {
            float[] data = RandomBits(input.Shape, input.Seed, bits => BitConverter.Int32BitsToSingle((int)bits));
            byte[] file = NpyBytes.File(input.Header, NpyBytes.Singles(data), input.major, align: input.align, newline: input.newline);
            NpyArray array = Npy.Read(new MemoryStream(file));
            NpyAssert.ShapeIs(input.Shape, array, input.Header);
            NpyAssert.BitwiseEqual(data, array.Data, input.Header);
        });
    }

    private static readonly int[][] Permutations = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];

    private static string Header(int[] shape, int[] order, char quote, string spaces, bool trailingComma, string suffix)
    {
        string Quoted(string text) => $"{quote}{text}{quote}";
        string tuple = shape.Length switch
        {
            0 => "()",
            1 => $"({shape[0]}{suffix},{spaces})",
            _ => $"({string.Join($",{spaces}", shape.Select(d => $"{d}{suffix}"))}{(trailingComma ? "," : "")})",
        };
        string[] entries =
        [
            $"{Quoted("descr")}{spaces}:{spaces}{Quoted("<f4")}",
            $"{Quoted("fortran_order")}:{spaces}False",
            $"{Quoted("shape")}:{spaces}{tuple}",
        ];
        return $"{{{spaces}{string.Join($",{spaces}", order.Select(k => entries[k]))}{(trailingComma ? "," : "")}{spaces}}}";
    }

    private static T[] RandomBits<T>(int[] shape, int seed, Func<long, T> fromBits)
    {
        var rng = new Random(seed);
        int count = shape.Aggregate(1, (product, dimension) => product * dimension);
        var values = new T[count];
        for (int index = 0; index < count; index++)
        {
            values[index] = fromBits(rng.NextInt64());
        }

        return values;
    }
}
