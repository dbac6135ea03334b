using System.Text;
using SelfAttention.IO;
using Xunit;

namespace SelfAttention.Tests.IO;

/// <summary>
/// Every way a file can be unreadable gives an <see cref="NpyFormatException"/> whose one-line message names the problem,
/// from seekable and forward-only streams alike (<see cref="NpyAssert.ReadFails"/>).
/// </summary>
public class NpyReadErrorTests
{
    private static byte[] Valid => NpyBytes.File(NpyBytes.Dict("<f4", "(2, 3)"), NpyBytes.Singles(1, 2, 3, 4, 5, 6));

    [Fact]
    public void EmptyStream() => NpyAssert.ReadFails([], "empty", "\\x93NUMPY");

    [Fact]
    public void WrongMagic()
    {
        NpyAssert.ReadFails("just some text file"u8.ToArray(), "not a .npy file", "\\x93NUMPY", "found 6A 75 73 74 20 73");
        NpyAssert.ReadFails([0x93, (byte)'N', (byte)'U', (byte)'M'], "not a .npy file", "found 93 4E 55 4D");
        NpyAssert.ReadFails([.. "\x93numpy"u8, 1, 0], "not a .npy file");
    }

    [Fact]
    public void ZipArchive_SuggestsItMayBeAnNpz() =>
        NpyAssert.ReadFails([0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0, 0], "not a .npy file", "zip", ".npz");

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(4, 0)]
    [InlineData(2, 5)]
    [InlineData(255, 0)]
    public void UnsupportedVersion(byte major, byte minor)
    {
        byte[] file = Valid;
        file[6] = major;
        file[7] = minor;
        NpyAssert.ReadFails(file, "version", $"{major}.{minor}", "expected 1.0, 2.0 or 3.0");
    }

    [Fact]
    public void TruncatedInTheVersionOrTheLengthField()
    {
        NpyAssert.ReadFails(Valid[..7], "truncated", "version", "expected 2", "found 1");
        NpyAssert.ReadFails(Valid[..9], "truncated", "header length", "expected 2", "found 1");
        byte[] version2 = NpyBytes.File(NpyBytes.Dict("<f4", "(2, 3)"), major: 2);
        NpyAssert.ReadFails(version2[..10], "truncated", "header length", "expected 4", "found 2");
    }

    [Fact]
    public void HeaderLengthBeyondTheStream()
    {
        byte[] file = Valid[..70];
        NpyAssert.ReadFails(file, "header is truncated", "expected 118", "found 60");
        byte[] huge = [.. NpyBytes.Magic, 2, 0, 0xFF, 0xFF, 0xFF, 0xFF, .. "{'descr': '<f4'"u8];
        NpyAssert.ReadFails(huge, "header length", "too large", "expected at most 10000 bytes", "max_header_size", "found 4294967295");
        byte[] large = [.. NpyBytes.Magic, 2, 0, 0x00, 0x00, 0x00, 0x01, .. "{'descr': '<f4'"u8];
        NpyAssert.ReadFails(large, "header length", "too large", "found 16777216");
        byte[] longest = [.. NpyBytes.Magic, 1, 0, 0x10, 0x27, .. "{'descr': '<f4'"u8];
        NpyAssert.ReadFails(longest, "header is truncated", "expected 10000", "found 15");
    }

    /// <summary>numpy refuses headers over 10000 bytes by default (max_header_size); so does the reader, in every version.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void HeaderLongerThanNumpyAccepts_IsRefusedBeforeItIsRead(byte major)
    {
        string dict = NpyBytes.Dict("<f4", "(2, 3)");
        byte[] file = NpyBytes.File(dict + new string(' ', Npy.MaxHeaderLength - dict.Length), NpyBytes.Singles(1, 2, 3, 4, 5, 6), major: major, align: 1);
        var stream = new TrickleStream(file);
        NpyAssert.ReadFails(file, "header length", "too large", "expected at most 10000", "found 10001");
        Assert.Throws<NpyFormatException>(() => Npy.Read(stream));
        Assert.Equal(8 + (major == 1 ? 2 : 4), stream.Consumed);
    }

    /// <summary>
    /// The issue's examples, 30 KB of open parentheses and 15,000 closed levels, once a stack overflow and 679 MB:
    /// longer than any header numpy reads, so refused from the length field, before the header is read.
    /// </summary>
    [Theory]
    [InlineData(15_000, ")")]
    [InlineData(30_000, "")]
    public void IssueExamples_DeepParentheses(int levels, string close)
    {
        string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + new string('(', levels) + "1" +
                        string.Concat(Enumerable.Repeat(close, levels)) + ", }";
        NpyAssert.ReadFails(NpyBytes.File(header, major: 2), "header length", "too large", "expected at most 10000");
    }

    /// <summary>
    /// Brackets nest at most 32 levels, the dict included: refused where the 33rd opens, closed or not, within a header
    /// numpy would read (so the depth bound, not the length bound, stops it).
    /// </summary>
    [Theory]
    [InlineData("(", 9_000, "")]
    [InlineData("[", 4_900, "]")]
    [InlineData("(", 4_900, ")")]
    [InlineData("(", 32, ")")]
    public void DeepNesting_IsRefusedWhereThe33rdLevelOpens(string open, int levels, string close)
    {
        string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + string.Concat(Enumerable.Repeat(open, levels)) + "1" +
                        string.Concat(Enumerable.Repeat(close, levels)) + ", }";
        int offset = header.IndexOf(open[0], StringComparison.Ordinal) + 31;
        NpyFormatException exception = NpyAssert.ReadFails(NpyBytes.File(header), "malformed", "nested deeper than 32 levels", $"at offset {offset} ");
        Assert.True(exception.Message.Length < 400, $"The message quotes too much: {exception.Message.Length} characters.");
    }

    /// <summary>31 levels inside the dict is the deepest allowed: parsed, then judged as a shape (here the integer 1).</summary>
    [Fact]
    public void DeepestAllowedNesting_IsParsed()
    {
        string header = NpyBytes.Dict("<f4", new string('(', 31) + "1" + new string(')', 31));
        NpyAssert.ReadFails(NpyBytes.File(header), "'shape' is not a tuple of integers", "found 1.");
        string structured = "{'descr': " + new string('[', 31) + "'<f4'" + new string(']', 31) + ", 'fortran_order': False, 'shape': (1,), }";
        NpyAssert.ReadFails(NpyBytes.File(structured), "structured", "[[[[");
    }

    /// <summary>numpy cannot make an array of more than 64 dimensions, and neither file nor message may grow with them.</summary>
    [Fact]
    public void MoreDimensionsThanNumpyAllows()
    {
        string shape = "(" + string.Concat(Enumerable.Repeat("1, ", Npy.MaxRank)) + "6)";
        NpyFormatException exception = NpyAssert.ReadFails(NpyBytes.File(NpyBytes.Dict("<f4", shape), NpyBytes.Singles(1, 2, 3, 4, 5, 6)),
            "too many dimensions", "expected at most 64", "found 65", "(1, 1, 1", "characters)");
        Assert.True(exception.Message.Length < 300, $"The message quotes too much: {exception.Message.Length} characters.");
    }

    public static TheoryData<string, string> MalformedHeaders => new()
    {
        { "", "expected '{'" },
        { "['descr', 'fortran_order', 'shape']", "expected '{'" },
        { "{'descr' '<f4', 'fortran_order': False, 'shape': (2, 3), }", "expected ':'" },
        { "{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3), }", "expected ',' or '}'" },
        { "{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3), }", "expected ',' or '}' after the value of 'descr', found 'f'" },
        { "{'descr': '<f4", "unterminated string" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ", "end of the header" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3 }", "expected ',' or ')'" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } extra", "after the closing '}'" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\0\0\0", "after the closing '}'" },
        { "{descr: '<f4', 'fortran_order': False, 'shape': (2, 3), }", "unexpected name 'descr'" },
        { "{1: '<f4', 'fortran_order': False, 'shape': (2, 3), }", "expected a string key" },
        { "{'descr': '<f4', 'fortran_order': false, 'shape': (2, 3), }", "unexpected name 'false'" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2.0, 3), }", "integer" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (0x2, 3), }", "integer" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (-, 3), }", "expected an integer" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': {2: 3}, }", "unexpected '{'" },
        { "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", "'descr' appears twice" },
        { "{'descr': '<f4',, 'fortran_order': False, 'shape': (2, 3), }", "unexpected ','" },
    };

    [Theory]
    [MemberData(nameof(MalformedHeaders))]
    public void MalformedHeader(string header, string problem)
    {
        NpyFormatException exception = NpyAssert.ReadFails(NpyBytes.File(header, NpyBytes.Singles(1, 2, 3, 4, 5, 6)), "malformed", problem);
        Assert.Contains("offset", exception.Message, StringComparison.Ordinal);
    }

    /// <summary>A malformed long header is quoted around the fault, not in full.</summary>
    [Fact]
    public void MalformedLongHeader_IsQuotedAroundTheFault()
    {
        string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + string.Concat(Enumerable.Repeat("1, ", 3000)) + "x), }";
        NpyFormatException exception = NpyAssert.ReadFails(NpyBytes.File(header, major: 2), "malformed", "unexpected name 'x'", "1, x)");
        Assert.True(exception.Message.Length < 400, $"The message quotes too much: {exception.Message.Length} characters.");
    }

    [Fact]
    public void MissingKeys()
    {
        NpyAssert.ReadFails(NpyBytes.File("{'descr': '<f4', 'fortran_order': False, }"), "missing", "'shape'");
        NpyAssert.ReadFails(NpyBytes.File("{'shape': (2, 3)}"), "missing", "'descr' and 'fortran_order'");
        NpyAssert.ReadFails(NpyBytes.File("{}"), "missing", "'descr' and 'fortran_order' and 'shape'");
    }

    [Fact]
    public void UnexpectedKey() =>
        NpyAssert.ReadFails(NpyBytes.File("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'order': 'C'}"), "unexpected key 'order'");

    [Theory]
    [InlineData(">f4")]
    [InlineData(">f8")]
    public void BigEndianDtype(string descr) =>
        NpyAssert.ReadFails(NpyBytes.File(NpyBytes.Dict(descr, "(2, 3)"), new byte[48]), "unsupported dtype", descr, "big-endian", "'<f4'", "'<f8'");

    [Theory]
    [InlineData("<i4")]
    [InlineData("<i8")]
    [InlineData("|u1")]
    [InlineData("|b1")]
    [InlineData("<f2")]
    [InlineData("<c8")]
    [InlineData("<c16")]
    [InlineData("|O")]
    [InlineData("<U5")]
    [InlineData("|f4")]
    [InlineData("f4")]
    [InlineData("float32")]
    public void UnsupportedDtype(string descr) =>
        NpyAssert.ReadFails(NpyBytes.File(NpyBytes.Dict(descr, "(2, 3)"), new byte[48]), "unsupported dtype", $"'{descr}'", "expected '<f4' (float32) or '<f8' (float64)");

    [Theory]
    [InlineData("[('x', '<f4'), ('y', '<f4')]")]
    [InlineData("[('', '<f4')]")]
    [InlineData("('<f4', (2,))")]
    public void StructuredDtype(string descr)
    {
        string header = $"{{'descr': {descr}, 'fortran_order': False, 'shape': (3,), }}";
        NpyAssert.ReadFails(NpyBytes.File(header, new byte[24]), "unsupported dtype", "structured", "expected '<f4'");
    }

    [Fact]
    public void DescrNotAString() =>
        NpyAssert.ReadFails(NpyBytes.File("{'descr': 4, 'fortran_order': False, 'shape': (3,), }"), "'descr' is not a dtype", "found 4");

    [Fact]
    public void FortranOrder() =>
        NpyAssert.ReadFails(NpyBytes.File(NpyBytes.Dict("<f4", "(2, 3)", "True"), new byte[24]), "Fortran-ordered arrays are not supported", "np.ascontiguousarray");

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData("None")]
    [InlineData("'False'")]
    public void FortranOrderNotABool(string value) =>
        NpyAssert.ReadFails(NpyBytes.File(NpyBytes.Dict("<f4", "(2, 3)", value)), "'fortran_order' is not a bool", $"found {value}");

    [Theory]
    [InlineData("[2, 3]")]
    [InlineData("(5)")]
    [InlineData("6")]
    [InlineData("None")]
    [InlineData("('2', 3)")]
    [InlineData("(2, (3,))")]
    [InlineData("(True, 3)")]
    public void ShapeNotATupleOfInts(string shape) =>
        NpyAssert.ReadFails(NpyBytes.File(NpyBytes.Dict("<f4", shape)), "'shape' is not a tuple of integers", shape == "(5)" ? "found 5" : $"found {shape}");

    [Theory]
    [InlineData("(-1,)", "-1")]
    [InlineData("(2, -3)", "-3")]
    [InlineData("(0, -1)", "-1")]
    [InlineData("(-99999999999999999999, 2)", "-99999999999999999999")]
    public void NegativeDimension(string shape, string dimension) =>
        NpyAssert.ReadFails(NpyBytes.File(NpyBytes.Dict("<f4", shape)), "negative dimension", shape, $"found {dimension}");

    [Theory]
    [InlineData("(2147483648,)", "2147483648")]
    [InlineData("(0, 99999999999999999999)", "99999999999999999999")]
    [InlineData("(3000000000L, 0)", "3000000000")]
    public void DimensionBeyondInt(string shape, string dimension) =>
        NpyAssert.ReadFails(NpyBytes.File(NpyBytes.Dict("<f4", shape)), "dimension that is too large", "expected at most 2147483647", $"found {dimension}");

    [Theory]
    [InlineData("(65536, 65536)", "4294967296")]
    [InlineData("(2147483647,)", "2147483647")]
    [InlineData("(2147483647, 2147483647, 2147483647)", "9903520300447984150353281023")]
    public void TooManyElements(string shape, string count) =>
        NpyAssert.ReadFails(NpyBytes.File(NpyBytes.Dict("<f8", shape)), "too many elements", $"expected at most {Array.MaxLength}", $"found {count}");

    [Fact]
    public void TruncatedData()
    {
        byte[] file = NpyBytes.File(NpyBytes.Dict("<f4", "(3, 4)"), new byte[20]);
        NpyAssert.ReadFails(file, "data is truncated", "expected 48 bytes for shape (3, 4) <f4, found 20");
        byte[] doubles = NpyBytes.File(NpyBytes.Dict("<f8", "(5,)"), new byte[39]);
        NpyAssert.ReadFails(doubles, "data is truncated", "expected 40 bytes for shape (5,) <f8, found 39");
        byte[] none = NpyBytes.File(NpyBytes.Dict("<f4", "()"));
        NpyAssert.ReadFails(none, "data is truncated", "expected 4 bytes for shape () <f4, found 0");
    }

    /// <summary>A forward-only stream finds the truncation after a full first chunk of float64 conversion.</summary>
    [Fact]
    public void TruncatedData_BeyondTheFirstChunk()
    {
        byte[] file = NpyBytes.File(NpyBytes.Dict("<f8", "(10000,)"), new byte[9000 * 8 + 3]);
        NpyAssert.ReadFails(file, "data is truncated", "expected 80000 bytes for shape (10000,) <f8, found 72003");
        byte[] singles = NpyBytes.File(NpyBytes.Dict("<f4", "(100, 100)"), new byte[39_999]);
        NpyAssert.ReadFails(singles, "data is truncated", "expected 40000 bytes", "found 39999");
    }

    [Fact]
    public void Version3HeaderNotUtf8()
    {
        byte[] header = [.. Encoding.ASCII.GetBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), 0xC3, 0x28];
        NpyAssert.ReadFails(NpyBytes.File("", major: 3, headerBytes: header), "not valid UTF-8");
    }

    /// <summary>Latin-1 bytes in a 1.0 header are decoded, then quoted escaped so that the message stays on one line.</summary>
    [Fact]
    public void ControlCharactersInTheHeader_AreEscapedInTheMessage()
    {
        NpyAssert.ReadFails(NpyBytes.File("{'descr': '<f4\n', 'fortran_order': False, 'shape': (2, 3), }"), "unterminated string", "\\n");
        NpyAssert.ReadFails(NpyBytes.File("{'descr': '\\n<f4', 'fortran_order': False, 'shape': (2, 3), }"), "unsupported dtype '\\n<f4'");
        NpyAssert.ReadFails(NpyBytes.File("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), '\u00e9\\r': 1}"), "unexpected key 'é\\r'");
    }

    [Fact]
    public void ReadFile_PutsTheFileNameInTheMessage()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, "keys.npy");
        File.WriteAllBytes(path, NpyBytes.File(NpyBytes.Dict("<i8", "(2, 3)"), new byte[48]));
        var exception = Assert.Throws<NpyFormatException>(() => Npy.ReadFile(path));
        NpyAssert.OneLineContaining(exception.Message, path, "unsupported dtype '<i8'");
        Assert.StartsWith(path + ": ", exception.Message, StringComparison.Ordinal);
        Assert.IsType<NpyFormatException>(exception.InnerException);

        File.WriteAllBytes(path, NpyBytes.File(NpyBytes.Dict("<f4", "(2, 3)"), new byte[7]));
        exception = Assert.Throws<NpyFormatException>(() => Npy.ReadFile(path));
        NpyAssert.OneLineContaining(exception.Message, "keys.npy", "truncated", "found 7");
    }

    [Fact]
    public void ReadFile_MissingFile_IsFileNotFound()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, "absent.npy");
        var exception = Assert.Throws<FileNotFoundException>(() => Npy.ReadFile(path));
        Assert.Contains("absent.npy", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NullArguments()
    {
        Assert.Throws<ArgumentNullException>("stream", () => Npy.Read(null!));
        Assert.Throws<ArgumentNullException>("path", () => Npy.ReadFile(null!));
        Assert.Throws<ArgumentException>("path", () => Npy.ReadFile(""));
    }
}
