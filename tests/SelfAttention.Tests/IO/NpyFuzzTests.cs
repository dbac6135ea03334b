using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using SelfAttention.IO;
using SelfAttention.Tests.Allocation;
using Xunit;

namespace SelfAttention.Tests.IO;

/// <summary>
/// Hostile <c>.npy</c> bytes: every truncation, bit flips over every header bit and a seeded sample of the data, and
/// header edits (shapes huge, negative or nested; deep brackets; long headers; bad dtypes; missing, duplicate and extra
/// keys; non-ASCII; wrong magic, version and length field), from valid files of versions 1.0–3.0, float32 and float64,
/// ranks 0–3. Every read, from a seekable and from a forward-only stream, must either throw a one-line
/// <see cref="NpyFormatException"/> or return an array that agrees with the bytes (shape product = element count,
/// elements decoded independently from the data offset, the stream left right after the data), and both streams must
/// agree. Each read must allocate at most <see cref="AllocationFactor"/>× the file plus <see cref="AllocationSlack"/>
/// bytes and take less than <see cref="TimeLimit"/> (a generous bound against hangs and quadratic parses, not a
/// benchmark). Runs in the allocation collection, alone, so the per-thread allocation counts are the reader's own.
/// </summary>
[Collection(AllocationCollection.Name)]
public class NpyFuzzTests
{
    private const int AllocationFactor = 16;

    // The first buffer of a forward-only read (16 KB), an exception with its stack trace and message, the parse.
    private const int AllocationSlack = 64 * 1024;

    private static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(2);

    public static TheoryData<string> SeedNames => [.. Seeds.Keys];

    /// <summary>Valid files to mutate, by name: versions 1.0, 2.0 and 3.0, '&lt;f4' and '&lt;f8', ranks 0 to 3, an empty array.</summary>
    private static Dictionary<string, byte[]> Seeds { get; } = new()
    {
        ["v1 <f4 (7,)"] = SeedFile("<f4", "(7,)", 7, major: 1),
        ["v1 <f8 (3, 5)"] = SeedFile("<f8", "(3, 5)", 15, major: 1),
        ["v2 <f4 (2, 3, 4)"] = SeedFile("<f4", "(2, 3, 4)", 24, major: 2),
        ["v3 <f8 (4,)"] = SeedFile("<f8", "(4,)", 4, major: 3),
        ["v1 <f4 ()"] = SeedFile("<f4", "()", 1, major: 1),
        ["v1 <f8 (2, 0, 3)"] = SeedFile("<f8", "(2, 0, 3)", 0, major: 1),
        ["np.save <f4 (3, 4)"] = NpyRoundTripTests.WriteToBytes(Values(12, 99), [3, 4]),
    };

    /// <summary>(a) Every proper prefix of a valid file fails: the data is exactly as long as the header says.</summary>
    [Theory]
    [MemberData(nameof(SeedNames))]
    public void EveryTruncation_Fails(string seed)
    {
        byte[] file = Seeds[seed];
        for (int length = 0; length < file.Length; length++)
        {
            Outcome outcome = ReadBoth(file[..length], $"{seed} cut to {length} of {file.Length} bytes");
            Assert.True(outcome.Error is not null, $"{seed} cut to {length} bytes: read {outcome.Array}, expected a truncation error.");
        }
    }

    /// <summary>(b) Every single-bit flip in the prefix and header, and 256 seeded flips in the data.</summary>
    [Theory]
    [MemberData(nameof(SeedNames))]
    public void BitFlips_FailOrAgreeWithTheBytes(string seed)
    {
        byte[] file = Seeds[seed];
        NpyArray original = Npy.Read(new MemoryStream(file));
        int dataOffset = DataOffset(file);
        for (int position = 0; position < dataOffset; position++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                byte[] mutated = Flip(file, position, bit);
                ReadBoth(mutated, $"{seed} with bit {bit} of byte {position} flipped");
            }
        }

        var random = new Random(seed.Length * 7919);
        for (int trial = 0; trial < 256 && dataOffset < file.Length; trial++)
        {
            int position = random.Next(dataOffset, file.Length);
            int bit = random.Next(8);
            string context = $"{seed} with bit {bit} of data byte {position} flipped";
            Outcome outcome = ReadBoth(Flip(file, position, bit), context);

            // The header is intact, so the array is the original's with one element changed (checked against the bytes).
            Assert.True(outcome.Array is not null, $"{context}: {outcome.Error?.Message}");
            Assert.Equal(original.Shape, outcome.Array.Shape);
            Assert.Equal(original.StoredType, outcome.Array.StoredType);
            int element = (position - dataOffset) / (original.StoredType == NpyDataType.Float32 ? 4 : 8);
            for (int index = 0; index < original.Data.Length; index++)
            {
                Assert.True(index == element || original.Data[index].Equals(outcome.Array.Data[index]), $"{context}: element {index} changed.");
            }
        }
    }

    public static TheoryData<string, string, bool?> HeaderEdits => new()
    {
        // Shapes: huge, negative, beyond int, nested, of the wrong kind, too many dimensions; and some that are fine.
        { "claims 250000000 floats", Dict("<f4", "(250000000,)"), false },
        { "claims 250000000 doubles", Dict("<f8", "(250000000,)"), false },
        { "claims the largest array", Dict("<f4", $"({Array.MaxLength},)"), false },
        { "one more than the largest array", Dict("<f4", $"({Array.MaxLength + 1L},)"), false },
        { "product past the largest array", Dict("<f4", "(46341, 46341)"), false },
        { "product past long", Dict("<f8", "(2147483647, 2147483647, 2147483647, 2147483647, 2147483647)"), false },
        { "zero times huge", Dict("<f4", "(0, 2147483647, 2147483647)"), true },
        { "negative", Dict("<f4", "(-1,)"), false },
        { "negative zero", Dict("<f4", "(-0,)"), true },
        { "negative after zero", Dict("<f4", "(0, -5)"), false },
        { "beyond long", Dict("<f4", "(99999999999999999999999999999999,)"), false },
        { "nested tuple", Dict("<f4", "((7,),)"), false },
        { "nested in a dimension", Dict("<f4", "(7, (1,))"), false },
        { "list dimension", Dict("<f4", "([7],)"), false },
        { "list shape", Dict("<f4", "[7]"), false },
        { "float dimension", Dict("<f4", "(7.0,)"), false },
        { "exponent dimension", Dict("<f4", "(7e0,)"), false },
        { "hex dimension", Dict("<f4", "(0x7,)"), false },
        { "Python 2 long", Dict("<f4", "(7L,)"), true },
        { "plus sign", Dict("<f4", "(+7,)"), true },
        { "double comma", Dict("<f4", "(7,,)"), false },
        { "lone comma", Dict("<f4", "(,)"), false },
        { "scalar", Dict("<f4", "()"), true },
        { "string dimension", Dict("<f4", "('7',)"), false },
        { "bool dimension", Dict("<f4", "(True,)"), false },
        { "None shape", Dict("<f4", "None"), false },
        { "64 dimensions", Dict("<f4", "(" + string.Concat(Enumerable.Repeat("1, ", 63)) + "7)"), true },
        { "65 dimensions", Dict("<f4", "(" + string.Concat(Enumerable.Repeat("1, ", 64)) + "7)"), false },
        { "3000 dimensions", Dict("<f4", "(" + string.Concat(Enumerable.Repeat("1, ", 2999)) + "7)"), false },

        // Brackets: at the depth limit, past it, unclosed, mixed, and far past it within a header numpy would read.
        { "31 levels", Dict("<f4", new string('(', 31) + "7" + new string(')', 31)), false },
        { "33 levels", Dict("<f4", new string('(', 32) + "7," + new string(')', 32)), false },
        { "9000 open", Dict("<f4", new string('(', 9000)), false },
        { "4900 closed", Dict("<f4", new string('(', 4900) + "7" + new string(')', 4900)), false },
        { "4900 mixed", Dict("<f4", string.Concat(Enumerable.Repeat("([", 2450)) + "7" + string.Concat(Enumerable.Repeat("])", 2450))), false },
        { "deep descr", "{'descr': " + new string('[', 4000) + ", 'fortran_order': False, 'shape': (7,), }", false },
        { "15000 closed (too long)", Dict("<f4", new string('(', 15_000) + "7" + new string(')', 15_000)), false },
        { "30000 open (too long)", Dict("<f4", new string('(', 30_000)), false },

        // Long headers.
        { "padded to the limit", Pad(Dict("<f4", "(7,)"), Npy.MaxHeaderLength - 1), true },
        { "padded past the limit", Pad(Dict("<f4", "(7,)"), Npy.MaxHeaderLength), false },
        { "long extra key", "{'descr': '<f4', 'fortran_order': False, 'shape': (7,), '" + new string('k', 9000) + "': 1}", false },
        { "long descr", Dict(new string('f', 9000), "(7,)"), false },
        { "long integer", Dict("<f4", "(" + new string('9', 9000) + ",)"), false },
        { "long name", Dict("<f4", "(7,)", new string('F', 9000)), false },
        { "long unterminated string", "{'descr': '" + new string('x', 9000), false },

        // Dtypes.
        { "half", Dict("<f2", "(7,)"), false },
        { "int32", Dict("<i4", "(7,)"), false },
        { "big-endian", Dict(">f4", "(7,)"), false },
        { "native", Dict("=f4", "(7,)"), true },
        { "no byte order", Dict("f4", "(7,)"), false },
        { "trailing space", Dict("<f4 ", "(7,)"), false },
        { "empty descr", Dict("", "(7,)"), false },
        { "NUL descr", Dict("\\x00", "(7,)"), false },
        { "escaped descr", Dict("\\x3cf4", "(7,)"), true },
        { "double quotes", "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (7,), }", true },
        { "u prefix", "{u'descr': u'<f4', u'fortran_order': False, u'shape': (7,), }", true },
        { "b prefix", "{'descr': b'<f4', 'fortran_order': False, 'shape': (7,), }", false },
        { "descr number", "{'descr': 4, 'fortran_order': False, 'shape': (7,), }", false },
        { "descr None", "{'descr': None, 'fortran_order': False, 'shape': (7,), }", false },
        { "structured", "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (7,), }", false },
        { "fortran True", Dict("<f4", "(7,)", "True"), false },
        { "fortran 0", Dict("<f4", "(7,)", "0"), false },
        { "fortran string", Dict("<f4", "(7,)", "'False'"), false },

        // Keys.
        { "no shape", "{'descr': '<f4', 'fortran_order': False, }", false },
        { "no keys", "{}", false },
        { "duplicate shape", "{'descr': '<f4', 'fortran_order': False, 'shape': (7,), 'shape': (7,), }", false },
        { "duplicate descr", "{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (7,), }", false },
        { "extra key", "{'descr': '<f4', 'fortran_order': False, 'shape': (7,), 'x': 1, }", false },
        { "keys in another order", "{'shape': (7,), 'fortran_order': False, 'descr': '<f4'}", true },
        { "number key", "{1: '<f4', 'fortran_order': False, 'shape': (7,), }", false },
        { "tuple key", "{(1,): '<f4', 'fortran_order': False, 'shape': (7,), }", false },
        { "nested dict", "{'descr': {'a': 1}, 'fortran_order': False, 'shape': (7,), }", false },
        { "not a dict", "[('descr', '<f4')]", false },
        { "empty", "", false },
        { "text after", Dict("<f4", "(7,)") + " x", false },

        // Non-ASCII.
        { "Latin-1 key", "{'descr': '<f4', 'fortran_order': False, 'shape': (7,), 'é': 1}", false },
        { "Arabic-Indic digit", Dict("<f4", "(\u0667,)"), false },
        { "full-width digit", Dict("<f4", "(\uFF17,)"), false },
        { "non-breaking space", Dict("<f4", "(7,\u00A0)"), false },
        { "control characters", Dict("<f4\n\r\t\u0001", "(7,)"), false },
    };

    /// <summary>(c) Header edits, in versions 1.0 and 3.0, with 7 floats of data; the header unpadded, so its length is the text's.</summary>
    [Theory]
    [MemberData(nameof(HeaderEdits))]
    public void HeaderEdit_FailsOrReadsConsistently(string name, string header, bool? reads)
    {
        byte[] data = NpyBytes.Singles(Values(7, 1));
        foreach (byte major in new byte[] { 1, 3 })
        {
            if (major == 1 && header.Any(c => c > 0xFF))
            {
                continue; // Not Latin-1: only a 3.0 (UTF-8) header can hold it.
            }

            string context = $"{name} (version {major}.0)";
            Outcome outcome = ReadBoth(NpyBytes.File(header, data, major: major, align: 1), context);
            if (reads is bool expected)
            {
                Assert.True(expected == (outcome.Array is not null), $"{context}: expected {(expected ? "a read" : "an error")}, got {outcome.Error?.Message ?? outcome.Array!.ToString()}.");
            }
        }
    }

    /// <summary>Bytes that are not UTF-8 in a version 3.0 header; a valid multi-byte character in a 3.0 key.</summary>
    [Fact]
    public void Version3_NonUtf8AndNonAsciiHeaders()
    {
        byte[] data = NpyBytes.Singles(Values(7, 1));
        byte[] valid = Encoding.UTF8.GetBytes(Dict("<f4", "(7,)"));
        byte[][] headers =
        [
            [.. valid, 0xC3, 0x28],
            [.. valid[..^1], 0xFF, .. valid[^1..]],
            [0xEF, 0xBB, 0xBF, .. valid],
            Encoding.UTF8.GetBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (7,), 'ключ': 1}"),
            Encoding.UTF8.GetBytes(Dict("<f4", "(7,)", "\U0001F600")),
        ];
        foreach (byte[] header in headers)
        {
            Outcome outcome = ReadBoth(NpyBytes.File("", data, major: 3, headerBytes: header), $"3.0 header {Convert.ToHexString(header[^8..])}");
            Assert.NotNull(outcome.Error);
        }
    }

    /// <summary>Magic, version and header length field: every wrong version byte pair, and lengths around the true one.</summary>
    [Theory]
    [MemberData(nameof(SeedNames))]
    public void PrefixEdits_FailOrReadConsistently(string seed)
    {
        byte[] file = Seeds[seed];
        foreach (byte major in new byte[] { 0, 1, 2, 3, 4, 127, 255 })
        {
            foreach (byte minor in new byte[] { 0, 1, 255 })
            {
                byte[] mutated = (byte[])file.Clone();
                mutated[6] = major;
                mutated[7] = minor;
                Outcome outcome = ReadBoth(mutated, $"{seed} as version {major}.{minor}");
                Assert.True(major is >= 1 and <= 3 && minor == 0 || outcome.Error is not null, $"{seed} as version {major}.{minor} was read.");
            }
        }

        for (int index = 0; index < 6; index++)
        {
            byte[] mutated = (byte[])file.Clone();
            mutated[index] ^= 0x20;
            Assert.NotNull(ReadBoth(mutated, $"{seed} with magic byte {index} changed").Error);
        }

        int lengthSize = file[6] == 1 ? 2 : 4;
        int headerLength = DataOffset(file) - 8 - lengthSize;
        foreach (long claimed in new long[] { 0, 1, headerLength - 1, headerLength + 1, headerLength + 64, Npy.MaxHeaderLength, Npy.MaxHeaderLength + 1, ushort.MaxValue, uint.MaxValue })
        {
            if (lengthSize == 2 && claimed > ushort.MaxValue)
            {
                continue;
            }

            byte[] mutated = (byte[])file.Clone();
            if (lengthSize == 2)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(mutated.AsSpan(8), (ushort)claimed);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(mutated.AsSpan(8), (uint)claimed);
            }

            ReadBoth(mutated, $"{seed} claiming a {claimed}-byte header");
        }
    }

    /// <summary>
    /// The issue's example: a 1 KB stream whose header claims (250000000,) (1 GB of float32, 2 GB of float64) fails as
    /// truncated, seekable or not, having allocated in proportion to the kilobyte, not the claim.
    /// </summary>
    [Theory]
    [InlineData("<f4")]
    [InlineData("<f8")]
    public void IssueExample_HugeClaimOnASmallStream(string descr)
    {
        byte[] file = NpyBytes.File(Dict(descr, "(250000000,)"), new byte[1024 - 128]);
        Assert.Equal(1024, file.Length);
        Outcome outcome = ReadBoth(file, $"{descr} (250000000,) in 1 KB");
        NpyAssert.OneLineContaining(outcome.Error!.Message, "data is truncated", "found 896");
    }

    /// <summary>The issue's examples for the header: nested parentheses of 30 KB (once a stack overflow) and 15,000 closed levels (679 MB).</summary>
    [Theory]
    [InlineData(30_000, false)]
    [InlineData(15_000, true)]
    public void IssueExample_DeepParentheses(int levels, bool closed)
    {
        string shape = new string('(', levels) + "7" + (closed ? new string(')', levels) : "");
        byte[] file = NpyBytes.File(Dict("<f4", shape), NpyBytes.Singles(Values(7, 1)), major: 2);
        Outcome outcome = ReadBoth(file, $"{levels} parentheses");
        NpyAssert.OneLineContaining(outcome.Error!.Message, "too large");

        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, "deep.npy");
        File.WriteAllBytes(path, file);
        var exception = Assert.Throws<NpyFormatException>(() => Npy.ReadFile(path));
        NpyAssert.OneLineContaining(exception.Message, path, "too large");
    }

    /// <summary>
    /// A large valid array through a forward-only stream takes the growing-buffer path: the data is right, and what is
    /// allocated stays within a small multiple of the array (here 1.2 MB of float32, and 2.4 MB of float64 in the file).
    /// </summary>
    [Theory]
    [InlineData(300_007, false)]
    [InlineData(300_007, true)]
    public void LargeArrayFromAForwardOnlyStream(int count, bool asDoubles)
    {
        float[] values = Values(count, 5);
        byte[] file;
        var output = new MemoryStream();
        if (asDoubles)
        {
            Npy.Write(output, Array.ConvertAll(values, v => (double)v), [count]);
        }
        else
        {
            Npy.Write(output, values, [count]);
        }

        file = output.ToArray();
        var stream = new TrickleStream(file, maxRead: 1 << 20);
        long dataBytes = (long)count * sizeof(float);
        long limit = (3 * dataBytes) + AllocationSlack - 1;
        (NpyArray? array, _, long allocated, _) = Measure(stream, limit, () => new TrickleStream(file, maxRead: 1 << 20));
        // float32 → float64 → float32 is exact, so both files read back bit for bit.
        Assert.True(MemoryMarshal.AsBytes(values.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(array!.Data.AsSpan())), "The data differs.");
        Assert.Equal(file.Length, stream.Consumed);
        Assert.True(allocated <= limit, $"allocated {allocated} bytes for {dataBytes} bytes of float32 data, expected at most {limit}");
    }

    private sealed record Outcome(NpyArray? Array, NpyFormatException? Error);

    /// <summary>Reads from a seekable and a forward-only stream; both must give the same verdict and pass every check.</summary>
    private static Outcome ReadBoth(byte[] file, string context)
    {
        Outcome seekable = ReadChecked(file, forwardOnly: false, context);
        Outcome forwardOnly = ReadChecked(file, forwardOnly: true, context);
        if (seekable.Error is not null || forwardOnly.Error is not null)
        {
            Assert.True(seekable.Error is not null && forwardOnly.Error is not null,
                $"{context}: the seekable read {(seekable.Error is null ? "succeeded" : "failed")}, the forward-only read {(forwardOnly.Error is null ? "succeeded" : "failed")}: {seekable.Error?.Message}{forwardOnly.Error?.Message}");
            Assert.True(seekable.Error!.Message == forwardOnly.Error!.Message,
                $"{context}: different messages: \"{seekable.Error.Message}\" and \"{forwardOnly.Error.Message}\"");
        }
        else
        {
            Assert.Equal(seekable.Array!.Shape, forwardOnly.Array!.Shape);
            NpyAssert.BitwiseEqual(seekable.Array.Data, forwardOnly.Array.Data, context);
        }

        return seekable;
    }

    private static Outcome ReadChecked(byte[] file, bool forwardOnly, string context)
    {
        context += forwardOnly ? ", forward-only" : ", seekable";
        Stream Open() => forwardOnly ? new TrickleStream(file, maxRead: 1 + (file.Length % 61)) : new MemoryStream(file, writable: false);
        Stream stream = Open();
        long limit = ((long)AllocationFactor * file.Length) + AllocationSlack;
        (NpyArray? array, NpyFormatException? error, long allocated, TimeSpan elapsed) = Measure(stream, limit, Open, context);
        Assert.True(allocated <= limit, $"{context}: allocated {allocated} bytes for a {file.Length}-byte file, expected at most {limit}.");
        Assert.True(elapsed < TimeLimit, $"{context}: took {elapsed.TotalMilliseconds:F0} ms, expected under {TimeLimit.TotalMilliseconds:F0} ms.");

        if (error is not null)
        {
            NpyAssert.OneLineContaining(error.Message);
            Assert.True(error.Message.Length <= 600, $"{context}: a {error.Message.Length}-character message: {error.Message[..Math.Min(200, error.Message.Length)]}…");
            return new Outcome(null, error);
        }

        AgreesWithTheBytes(file, array!, context);
        if (stream is TrickleStream trickle)
        {
            int size = array!.StoredType == NpyDataType.Float32 ? 4 : 8;
            Assert.True(trickle.Consumed == DataOffset(file) + ((long)array.ElementCount * size), $"{context}: the stream was left at {trickle.Consumed}.");
        }

        return new Outcome(array, null);
    }

    /// <summary>
    /// One read of <paramref name="stream"/>: its array or its <see cref="NpyFormatException"/>, the bytes this thread
    /// allocated and the time taken. Any other exception fails the test. A read over <paramref name="limit"/> is measured
    /// once more on a fresh stream of the same bytes (<paramref name="reopen"/>), and the smaller count is reported: the
    /// per-thread counter is now and then off by tens of kilobytes for reasons not the caller's (seen here once in
    /// thousands of reads; the runtime's own test of it flakes the same way, dotnet/runtime#63487), while the reader is
    /// deterministic, so an over-allocation of its own shows in both readings.
    /// </summary>
    private static (NpyArray? Array, NpyFormatException? Error, long Allocated, TimeSpan Elapsed) Measure(
        Stream stream, long limit, Func<Stream> reopen, string context = "")
    {
        NpyArray? array = null;
        NpyFormatException? error = null;
        long before = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        try
        {
            array = Npy.Read(stream);
        }
        catch (NpyFormatException exception)
        {
            error = exception;
        }
        catch (Exception exception)
        {
            Assert.Fail($"{context}: expected an NpyFormatException or an array, actual {exception.GetType().Name}: {exception.Message}");
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > limit)
        {
            allocated = Math.Min(allocated, Measure(reopen(), long.MaxValue, reopen, context).Allocated);
        }

        return (array, error, allocated, elapsed);
    }

    /// <summary>A read array is what its bytes say: the shape's product is the element count, and each element is decoded here from the data offset.</summary>
    private static void AgreesWithTheBytes(byte[] file, NpyArray array, string context)
    {
        Assert.True(array.Rank <= Npy.MaxRank, $"{context}: rank {array.Rank}");
        long product = 1;
        foreach (int dimension in array.Shape)
        {
            Assert.True(dimension >= 0, $"{context}: negative dimension in {array}");
            product *= dimension;
        }

        Assert.True(product == array.ElementCount, $"{context}: shape {array} holds {product} elements, data {array.ElementCount}.");
        int offset = DataOffset(file);
        int size = array.StoredType == NpyDataType.Float32 ? 4 : 8;
        Assert.True(offset + ((long)array.ElementCount * size) <= file.Length, $"{context}: {array} does not fit in {file.Length} bytes.");
        for (int index = 0; index < array.ElementCount; index++)
        {
            ReadOnlySpan<byte> bytes = file.AsSpan(offset + (index * size), size);
            float expected = size == 4 ? BinaryPrimitives.ReadSingleLittleEndian(bytes) : (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes);
            float actual = array.Data[index];
            // float32 is copied bit for bit; a float64 NaN may come out with another payload, but as a NaN.
            bool same = size == 8 && float.IsNaN(expected)
                ? float.IsNaN(actual)
                : BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual);
            Assert.True(same, $"{context}: element {index}: expected {expected:R}, actual {actual:R}.");
        }
    }

    private static int DataOffset(byte[] file)
    {
        int lengthSize = file[6] == 1 ? 2 : 4;
        long length = lengthSize == 2 ? BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8)) : BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(8));
        return checked((int)(8 + lengthSize + length));
    }

    private static byte[] Flip(byte[] file, int position, int bit)
    {
        byte[] mutated = (byte[])file.Clone();
        mutated[position] ^= (byte)(1 << bit);
        return mutated;
    }

    private static string Dict(string descr, string shape, string fortranOrder = "False") => NpyBytes.Dict(descr, shape, fortranOrder);

    /// <summary>The header text padded with spaces to <paramref name="length"/> characters; with the final '\n', one more byte.</summary>
    private static string Pad(string header, int length) => header + new string(' ', length - header.Length);

    private static byte[] SeedFile(string descr, string shape, int count, byte major)
    {
        float[] values = Values(count, count + major);
        byte[] data = descr == "<f4" ? NpyBytes.Singles(values) : NpyBytes.Doubles(Array.ConvertAll(values, v => (double)v * (1 + 1e-9)));
        return NpyBytes.File(Dict(descr, shape), data, major: major);
    }

    /// <summary>Distinct values of both signs and several magnitudes, seeded.</summary>
    private static float[] Values(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int index = 0; index < count; index++)
        {
            values[index] = (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-8, 9)));
        }

        return values;
    }
}
