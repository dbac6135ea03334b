using System.Text;
using SelfAttention.IO;
using Xunit;

namespace SelfAttention.Tests.IO;

/// <summary>
/// Reading files built by hand from the format rules: every version, old and new padding, and the header spellings
/// numpy, Python 2 and other writers produce. The data is always [[1, 2, 3], [4, 5, 6]] unless a test says otherwise.
/// </summary>
public class NpyReadTests
{
    private static readonly float[] Six = [1f, 2f, 3f, 4f, 5f, 6f];

    public static TheoryData<byte, int> VersionsAndAlignments => new()
    {
        { 1, 64 }, { 1, 16 }, { 1, 1 }, { 2, 64 }, { 2, 16 }, { 3, 64 }, { 3, 1 },
    };

    [Theory]
    [MemberData(nameof(VersionsAndAlignments))]
    public void ReadsEveryVersionAndPadding(byte major, int align)
    {
        byte[] file = NpyBytes.File(NpyBytes.Dict("<f4", "(2, 3)"), NpyBytes.Singles(Six), major, align: align);
        AssertSix(file, $"version {major}.0, padded to {align}");
    }

    /// <summary>The header need not end with '\n': numpy parses it with ast.literal_eval, which ignores trailing spaces.</summary>
    [Fact]
    public void HeaderWithoutFinalNewline_IsRead()
    {
        AssertSix(NpyBytes.File(NpyBytes.Dict("<f4", "(2, 3)"), NpyBytes.Singles(Six), newline: false), "no final newline");
    }

    public static TheoryData<string> HeaderSpellings => new()
    {
        // keys in other orders
        "{'shape': (2, 3), 'descr': '<f4', 'fortran_order': False, }",
        "{'fortran_order': False, 'shape': (2, 3), 'descr': '<f4'}",
        // double quotes, mixed quotes, no trailing comma
        "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 3)}",
        "{'descr': \"<f4\", \"fortran_order\": False, 'shape': (2, 3)}",
        // whitespace anywhere between tokens, newlines and tabs included, and none at all
        "  {  'descr' :'<f4' ,\n\t'fortran_order'\t:  False,'shape':(  2 ,3 ) ,  }",
        "{'descr':'<f4','fortran_order':False,'shape':(2,3)}",
        // a trailing comma inside the tuple, Python 2 long suffixes, a unicode-prefixed string, an escape
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }",
        "{u'descr': u'<f4', u'fortran_order': False, u'shape': (2, 3), }",
        "{'descr': '\\x3cf4', 'fortran_order': False, 'shape': (+2, 3), }",
        // native byte order, which is little-endian on every supported host
        "{'descr': '=f4', 'fortran_order': False, 'shape': (2, 3), }",
    };

    [Theory]
    [MemberData(nameof(HeaderSpellings))]
    public void HeaderSpellings_AreRead(string header)
    {
        AssertSix(NpyBytes.File(header, NpyBytes.Singles(Six)), header);
    }

    public static TheoryData<string, int[]> ShapeSpellings => new()
    {
        { "()", [] },
        { "(5,)", [5] },
        { "( 5 , )", [5] },
        { "(0,)", [0] },
        { "(2, 0, 3)", [2, 0, 3] },
        { "(1, 1, 1, 1, 1, 1, 1, 1, 1, 1)", [1, 1, 1, 1, 1, 1, 1, 1, 1, 1] },
        { "(0, 2147483647)", [0, int.MaxValue] },
        { "(-0, 4)", [0, 4] },
    };

    [Theory]
    [MemberData(nameof(ShapeSpellings))]
    public void ShapeSpellings_AreRead(string shape, int[] expected)
    {
        int count = expected.Aggregate(1L, (product, dimension) => product * dimension) is var n && n > 0 ? (int)n : 0;
        float[] data = [.. Enumerable.Range(0, count).Select(index => index + 0.5f)];
        NpyArray array = Npy.Read(new MemoryStream(NpyBytes.File(NpyBytes.Dict("<f4", shape), NpyBytes.Singles(data))));
        NpyAssert.ShapeIs(expected, array, shape);
        Assert.Equal(data, array.Data);
    }

    /// <summary>float64 data becomes the nearest float32, ties to even, with overflow to ±∞ and underflow to ±0.</summary>
    [Fact]
    public void Float64_IsCorrectlyRoundedToFloat32()
    {
        double ulp1 = Math.Pow(2, -23), maxFloat = float.MaxValue;
        (double Value, float Expected)[] cases =
        [
            (1 + ulp1 / 2, 1f),                                               // tie: to the even neighbour below
            (1 + 3 * ulp1 / 2, 1 + 2 * (float)ulp1),                          // tie: to the even neighbour above
            (1 + ulp1 / 2 + Math.Pow(2, -52), 1 + (float)ulp1),               // just above the tie
            (1 + ulp1 / 2 - Math.Pow(2, -53), 1f),                            // just below the tie
            (0.1, 0.1f),
            (-2.5e-3, -2.5e-3f),
            (maxFloat, float.MaxValue),
            (maxFloat + Math.Pow(2, 102), float.MaxValue),                    // below half an ulp past the largest float
            (maxFloat + Math.Pow(2, 103), float.PositiveInfinity),            // the tie above the largest float goes to ∞
            (-1e300, float.NegativeInfinity),
            (double.PositiveInfinity, float.PositiveInfinity),
            (Math.Pow(2, -149), float.Epsilon),                               // smallest denormal, exact
            (Math.Pow(2, -150), 0f),                                          // tie between 0 and ε: to even 0
            (Math.Pow(2, -150) + Math.Pow(2, -200), float.Epsilon),
            (3 * Math.Pow(2, -150), 2 * float.Epsilon),                       // tie between ε and 2ε: to even 2ε
            (1e-50, 0f),
            (-1e-50, -0f),
            (-0.0, -0f),
            (Math.Pow(2, -126) * (1 - Math.Pow(2, -30)), BitConverter.Int32BitsToSingle(0x0080_0000)), // rounds up to the smallest normal
        ];

        byte[] file = NpyBytes.File(NpyBytes.Dict("<f8", $"({cases.Length + 1},)"), NpyBytes.Doubles([.. cases.Select(c => c.Value), double.NaN]));
        NpyArray array = Npy.Read(new MemoryStream(file));
        Assert.Equal(NpyDataType.Float64, array.StoredType);
        NpyAssert.BitwiseEqual([.. cases.Select(c => c.Expected)], array.Data.AsSpan(0, cases.Length), "float64 → float32");
        Assert.True(float.IsNaN(array.Data[^1]), $"NaN became {array.Data[^1]}.");
    }

    [Fact]
    public void Float64_AnyOrderAndNativeByteOrder()
    {
        byte[] file = NpyBytes.File("{'shape': (2, 3), 'fortran_order': False, 'descr': '=f8'}", NpyBytes.Doubles([.. Six.Select(x => (double)x)]));
        NpyArray array = AssertSix(file, "=f8");
        Assert.Equal(NpyDataType.Float64, array.StoredType);
    }

    /// <summary>Bytes after the data are not read (numpy does not check them either); the stream stops right after the data.</summary>
    [Fact]
    public void TrailingBytes_AreLeftUnread()
    {
        byte[] data = NpyBytes.Singles(Six);
        byte[] file = [.. NpyBytes.File(NpyBytes.Dict("<f4", "(2, 3)"), data), .. "garbage that is not an array"u8];
        var stream = new MemoryStream(file);
        AssertSix(stream, "trailing bytes");
        Assert.Equal(file.Length - 28, stream.Position);
    }

    /// <summary>
    /// Any version may carry a header up to <see cref="Npy.MaxHeaderLength"/> bytes (numpy's default limit), here
    /// padded with spaces and holding the most dimensions numpy allows, from seekable and forward-only streams.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void LongestHeaderAndHighestRank_AreRead(byte major)
    {
        string shape = "(" + string.Concat(Enumerable.Repeat("1, ", Npy.MaxRank - 1)) + "6)";
        string dict = NpyBytes.Dict("<f4", shape);
        int lengthSize = major == 1 ? 2 : 4;
        string header = dict + new string(' ', Npy.MaxHeaderLength - dict.Length - 1);
        byte[] file = NpyBytes.File(header, NpyBytes.Singles(Six), major: major, align: 1);
        Assert.Equal(Npy.MaxHeaderLength, file.Length - 8 - lengthSize - 24);
        foreach (Stream stream in new Stream[] { new MemoryStream(file), new TrickleStream(file, maxRead: 1000) })
        {
            NpyArray array = Npy.Read(stream);
            Assert.Equal(Npy.MaxRank, array.Rank);
            Assert.Equal(Six, array.Data);
        }
    }

    private static NpyArray AssertSix(byte[] file, string context) => AssertSix(new MemoryStream(file), context);

    private static NpyArray AssertSix(Stream stream, string context)
    {
        NpyArray array = Npy.Read(stream);
        NpyAssert.ShapeIs([2, 3], array, context);
        NpyAssert.BitwiseEqual(Six, array.Data, context);
        return array;
    }

    /// <summary>Version 1.0 and 2.0 headers are Latin-1; 3.0 headers are UTF-8 (here: ASCII, the only text a valid header holds).</summary>
    [Fact]
    public void Version3Header_IsDecodedAsUtf8()
    {
        byte[] header = Encoding.UTF8.GetBytes(NpyBytes.Dict("<f4", "(2, 3)"));
        AssertSix(NpyBytes.File("", NpyBytes.Singles(Six), major: 3, headerBytes: header), "3.0");
    }
}
