using CommunityToolkit.HighPerformance;
using SelfAttention.Cli.Tests.Helpers;
using SelfAttention.IO;
using SelfAttention.Reference;

namespace SelfAttention.Cli.Tests.Commands;

/// <summary>
/// <c>run</c>: attention over .npy files agrees with the naive reference (tolerance 2e-5 + 2e-5·|ref|: float32
/// kernels against double sums on values of order 1), and every bad input exits 2 with one line and writes nothing.
/// </summary>
public class RunCommandTests
{
    private const float Tolerance = 2e-5f;

    [Fact]
    public void BatchedGroupedQueryAttentionMatchesTheReference()
    {
        using var folder = new TempFolder();
        // batch 2, 5 queries, 7 keys, 4 query heads over 2 kv heads, head dim 3, value dim 5.
        float[] q = NpyFiles.WriteRandom(folder.File("q.npy"), 1, 2, 5, 4 * 3);
        float[] k = NpyFiles.WriteRandom(folder.File("k.npy"), 2, 2, 7, 2 * 3);
        float[] v = NpyFiles.WriteRandom(folder.File("v.npy"), 3, 2, 7, 2 * 5);
        var result = Tool.Run("run", "--query", folder.File("q.npy"), "--key", folder.File("k.npy"), "--value", folder.File("v.npy"),
                              "--heads", "4", "--kv-heads", "2", "--causal", "--out", folder.File("o.npy"), "--weights", folder.File("w.npy"));
        Assert.True(result.ExitCode == 0, result.ToString());

        var shape = new AttentionShape(2, 5, 7, 4, 3) { KvHeads = 2, ValueDim = 5 };
        var options = new AttentionOptions { IsCausal = true };
        var expected = new float[2 * 5 * 4 * 5];
        NaiveAttention.ComputeMultiHead(q, k, v, expected, shape, options);
        var output = Npy.ReadFile(folder.File("o.npy"));
        Assert.Equal(new[] { 2, 5, 20 }, output.Shape);
        AssertClose(expected, output.Data);

        var weights = Npy.ReadFile(folder.File("w.npy"));
        Assert.Equal(new[] { 2, 4, 5, 7 }, weights.Shape);
        for (int b = 0; b < 2; b++)
        {
            for (int h = 0; h < 4; h++)
            {
                var expectedWeights = new float[5 * 7];
                NaiveAttention.Compute(new ReadOnlySpan2D<float>(q, b * 5 * 12 + h * 3, 5, 3, 9),
                                       new ReadOnlySpan2D<float>(k, b * 7 * 6 + h / 2 * 3, 7, 3, 3),
                                       new ReadOnlySpan2D<float>(v, b * 7 * 10 + h / 2 * 5, 7, 5, 5),
                                       new float[5, 5], new Span2D<float>(expectedWeights, 5, 7), options);
                AssertClose(expectedWeights, weights.Data.AsSpan((b * 4 + h) * 35, 35).ToArray());
            }
        }
    }

    [Fact]
    public void PaddedBatchWithAWindowAndTopLeftCausal_MatchesTheReference()
    {
        using var folder = new TempFolder();
        // batch 3 padded to 9 queries and 11 keys, 2 heads of 4.
        float[] q = NpyFiles.WriteRandom(folder.File("q.npy"), 11, 3, 9, 2 * 4);
        float[] k = NpyFiles.WriteRandom(folder.File("k.npy"), 12, 3, 11, 2 * 4);
        float[] v = NpyFiles.WriteRandom(folder.File("v.npy"), 13, 3, 11, 2 * 4);
        var result = Tool.Run("run", "--query", folder.File("q.npy"), "--key", folder.File("k.npy"), "--value", folder.File("v.npy"), "--heads", "2",
                              "--causal", "--causal-alignment", "top-left", "--window", "3,1", "--key-lengths", "11,4,0", "--query-lengths", "9,7,2",
                              "--out", folder.File("o.npy"));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("causal (top-left), window (3, 1), key lengths 11,4,0", result.Output);

        var expected = new float[3 * 9 * 2 * 4];
        NaiveAttention.ComputeMultiHeadPadded(q, k, v, expected, new AttentionShape(3, 9, 11, 2, 4), [11, 4, 0], [9, 7, 2],
                                              new AttentionOptions { IsCausal = true, CausalAlignment = CausalAlignment.TopLeft, Window = new AttentionWindow(3, 1) });
        AssertClose(expected, Npy.ReadFile(folder.File("o.npy")).Data);
    }

    [Theory]
    [InlineData(new[] { "--window", "3" }, "--window expects LEFT,RIGHT")]
    [InlineData(new[] { "--window", "-2,0" }, "--window expects LEFT,RIGHT")]
    [InlineData(new[] { "--causal-alignment", "middle" }, "--causal-alignment expects bottom-right or top-left")]
    [InlineData(new[] { "--key-lengths", "1,x" }, "--key-lengths expects comma-separated integers")]
    [InlineData(new[] { "--key-lengths", "1,2" }, "keyLengths")]
    [InlineData(new[] { "--key-lengths", "99" }, "keyLengths")]
    [InlineData(new[] { "--query-lengths", "2" }, "--query-lengths needs --key-lengths")]
    public void BadMaskOptionsAreRejected(string[] options, string message)
    {
        using var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("q.npy"), 1, 3, 8);
        NpyFiles.WriteRandom(folder.File("k.npy"), 2, 5, 8);
        NpyFiles.WriteRandom(folder.File("v.npy"), 3, 5, 8);
        AssertUsageErrorWritesNothing(folder, ["--heads", "2", .. options], withWeights: false, "run:", message);
    }

    [Fact]
    public void WeightsWithLengths_MatchThePaddedReference()
    {
        using var folder = new TempFolder();
        // batch 3 padded to 5 queries and 7 keys, 2 heads of 4; sequence 2 has no key, sequence 1 three query rows.
        float[] q = NpyFiles.WriteRandom(folder.File("q.npy"), 21, 3, 5, 2 * 4);
        float[] k = NpyFiles.WriteRandom(folder.File("k.npy"), 22, 3, 7, 2 * 4);
        float[] v = NpyFiles.WriteRandom(folder.File("v.npy"), 23, 3, 7, 2 * 4);
        var result = Tool.Run("run", "--query", folder.File("q.npy"), "--key", folder.File("k.npy"), "--value", folder.File("v.npy"), "--heads", "2",
                              "--causal", "--key-lengths", "7,4,0", "--query-lengths", "5,3,5", "--sinks", "0.5,-1",
                              "--out", folder.File("o.npy"), "--weights", folder.File("w.npy"));
        Assert.True(result.ExitCode == 0, result.ToString());
        float[] expected = new float[3 * 5 * 2 * 4], expectedWeights = new float[3 * 2 * 5 * 7];
        NaiveAttention.ComputeMultiHeadPadded(q, k, v, expected, expectedWeights, new AttentionShape(3, 5, 7, 2, 4), [7, 4, 0], [5, 3, 5],
                                              new AttentionModifiers { Sinks = new float[] { 0.5f, -1f } }, new AttentionOptions { IsCausal = true });
        AssertClose(expected, Npy.ReadFile(folder.File("o.npy")).Data);
        var weights = Npy.ReadFile(folder.File("w.npy"));
        Assert.Equal(new[] { 3, 2, 5, 7 }, weights.Shape);
        AssertClose(expectedWeights, weights.Data);
        Assert.All(weights.Data.AsSpan(2 * 2 * 5 * 7).ToArray(), x => Assert.Equal(0f, x));
    }

    [Fact]
    public void UnbatchedFloat64InputsWithScaleAndSumNormalisation()
    {
        using var folder = new TempFolder();
        var q = new double[3 * 4];
        var k = new double[6 * 4];
        for (int i = 0; i < q.Length; i++) q[i] = 0.1 * (i % 7) + 0.05;
        for (int i = 0; i < k.Length; i++) k[i] = 0.2 * (i % 5) + 0.1;
        Npy.WriteFile(folder.File("q.npy"), q, [3, 4]);
        Npy.WriteFile(folder.File("k.npy"), k, [6, 4]);
        var result = Tool.Run("run", "--query", folder.File("q.npy"), "--key", folder.File("k.npy"), "--value", folder.File("k.npy"),
                              "--heads", "2", "--scale", "0.25", "--normalization", "sum", "--threads", "2", "--out", folder.File("o.npy"));
        Assert.True(result.ExitCode == 0, result.ToString());

        float[] qf = q.Select(x => (float)x).ToArray(), kf = k.Select(x => (float)x).ToArray();
        var expected = new float[3 * 4];
        NaiveAttention.ComputeMultiHead(qf, kf, kf, expected, new AttentionShape(1, 3, 6, 2, 2),
                                        new AttentionOptions { Scale = 0.25f, Normalization = AttentionNormalization.Sum });
        var output = Npy.ReadFile(folder.File("o.npy"));
        Assert.Equal(new[] { 3, 4 }, output.Shape);
        AssertClose(expected, output.Data);
        Assert.Contains("scale 0.25, sum", result.Output);
    }

    [Fact]
    public void WithoutOutASmallResultIsPrinted()
    {
        using var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("x.npy"), 4, 3, 4);
        var result = Tool.Run("run", "--query", folder.File("x.npy"), "--key", folder.File("x.npy"), "--value", folder.File("x.npy"), "--heads", "1");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("output", result.Output);
        Assert.Contains("c3", result.Output);
        Assert.Equal(new[] { "x.npy" }, folder.Files());
    }

    [Fact]
    public void WrongMagicIsRejected() => AssertRejected(
        f => NpyFiles.WriteRaw(f, "<f4", false, [2, 4], NpyFiles.Bytes(new float[8]), magic: "\u0093NUMPZ"), "magic");

    [Fact]
    public void FortranOrderIsRejected() => AssertRejected(
        f => NpyFiles.WriteRaw(f, "<f4", true, [2, 4], NpyFiles.Bytes(new float[8])), "Fortran");

    [Theory]
    [InlineData("<i4")]
    [InlineData(">f4")]
    [InlineData("<f2")]
    [InlineData("<c8")]
    public void UnsupportedDtypeIsRejected(string descr) => AssertRejected(
        f => NpyFiles.WriteRaw(f, descr, false, [2, 4], new byte[32]), descr);

    [Fact]
    public void TruncatedDataIsRejected() => AssertRejected(
        f => NpyFiles.WriteRaw(f, "<f4", false, [2, 4], NpyFiles.Bytes(new float[7])), "truncated");

    [Fact]
    public void KeyWidthThatDoesNotMatchTheQueryIsRejected()
    {
        using var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("q.npy"), 1, 3, 8);
        NpyFiles.WriteRandom(folder.File("k.npy"), 2, 5, 6);
        NpyFiles.WriteRandom(folder.File("v.npy"), 3, 5, 8);
        AssertUsageErrorWritesNothing(folder, ["--heads", "2"], "k.npy", "expected last dimension 8", "got 6");
    }

    [Fact]
    public void KeyAndValueLengthsMustAgree()
    {
        using var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("q.npy"), 1, 3, 8);
        NpyFiles.WriteRandom(folder.File("k.npy"), 2, 5, 8);
        NpyFiles.WriteRandom(folder.File("v.npy"), 3, 4, 8);
        AssertUsageErrorWritesNothing(folder, ["--heads", "2"], "v.npy", "expected 5 rows", "got 4");
    }

    [Fact]
    public void BatchesMustAgree()
    {
        using var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("q.npy"), 1, 2, 3, 8);
        NpyFiles.WriteRandom(folder.File("k.npy"), 2, 3, 5, 8);
        NpyFiles.WriteRandom(folder.File("v.npy"), 3, 3, 5, 8);
        AssertUsageErrorWritesNothing(folder, ["--heads", "2"], "k.npy", "expected batch 2", "got 3");
    }

    [Fact]
    public void RanksMustAgree()
    {
        using var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("q.npy"), 1, 3, 8);
        NpyFiles.WriteRandom(folder.File("k.npy"), 2, 1, 5, 8);
        NpyFiles.WriteRandom(folder.File("v.npy"), 3, 5, 8);
        AssertUsageErrorWritesNothing(folder, ["--heads", "2"], "k.npy", "2-D");
    }

    [Theory]
    [InlineData(new[] { "--heads", "3" }, "multiple of --heads 3")]
    [InlineData(new[] { "--heads", "4", "--kv-heads", "3" }, "not a multiple of --kv-heads 3")]
    [InlineData(new[] { "--heads", "0" }, "--heads expects an integer ≥ 1")]
    [InlineData(new[] { "--heads", "2", "--scale", "NaN" }, "--scale expects a finite number")]
    [InlineData(new[] { "--heads", "2", "--normalization", "max" }, "softmax or sum")]
    [InlineData(new[] { "--heads", "2", "--threads", "0" }, "--threads")]
    [InlineData(new string[0], "--heads is required")]
    public void BadOptionsAreRejected(string[] options, string message)
    {
        using var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("q.npy"), 1, 3, 8);
        NpyFiles.WriteRandom(folder.File("k.npy"), 2, 5, 8);
        NpyFiles.WriteRandom(folder.File("v.npy"), 3, 5, 8);
        AssertUsageErrorWritesNothing(folder, options, message);
    }

    [Fact]
    public void MissingFileIsRejected()
    {
        using var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("q.npy"), 1, 3, 8);
        var result = Tool.Run("run", "--query", folder.File("q.npy"), "--key", folder.File("nope.npy"), "--value", folder.File("q.npy"), "--heads", "2");
        Tool.AssertUsageError(result, "--key", "no such file", "nope.npy");
    }

    [Fact]
    public void OutAndWeightsMustDiffer()
    {
        using var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("q.npy"), 1, 3, 8);
        var result = Tool.Run("run", "--query", folder.File("q.npy"), "--key", folder.File("q.npy"), "--value", folder.File("q.npy"),
                              "--heads", "2", "--out", folder.File("same.npy"), "--weights", folder.File("same.npy"));
        Tool.AssertUsageError(result, "same file");
        Assert.Equal(new[] { "q.npy" }, folder.Files());
    }

    [Fact]
    public void MissingRequiredOptionsAreNamed() =>
        Tool.AssertUsageError(Tool.Run("run", "--heads", "2"), "--query, --key, --value are required");

    public static TheoryData<string, bool, bool> MaskCases => new()
    {
        { "2d", false, false }, { "2d", true, false }, { "3d", false, true }, { "3d1", true, false }, { "4d", true, true }, { "4d", false, false },
        { "4d b1", true, false }, { "none", false, true },
    };

    [Theory]
    [MemberData(nameof(MaskCases))]
    public void MaskSoftcapAlibiSinksAndLse_MatchTheReference(string maskShape, bool boolean, bool withWeights)
    {
        using var folder = new TempFolder();
        // batch 2, 5 queries, 7 keys, 4 query heads over 2 kv heads, head dim 3.
        const int batch = 2, nq = 5, nk = 7, heads = 4;
        float[] q = NpyFiles.WriteRandom(folder.File("q.npy"), 1, batch, nq, heads * 3);
        float[] k = NpyFiles.WriteRandom(folder.File("k.npy"), 2, batch, nk, 2 * 3);
        float[] v = NpyFiles.WriteRandom(folder.File("v.npy"), 3, batch, nk, 2 * 3);
        int[] shape = maskShape switch
        {
            "2d" => [nq, nk],
            "3d" => [heads, nq, nk],
            "3d1" => [1, nq, nk],
            "4d b1" => [1, heads, nq, nk],
            _ => [batch, heads, nq, nk],
        };
        int count = shape.Aggregate(1, (a, x) => a * x);
        var rng = new Random(count + (boolean ? 1 : 0));
        bool[] bits = Enumerable.Range(0, count).Select(n => n % 11 != 0 && rng.NextDouble() < 0.75).ToArray();
        float[] bias = Enumerable.Range(0, count).Select(n => n % 13 == 0 ? float.NegativeInfinity : (float)(rng.NextDouble() * 2 - 1)).ToArray();
        string[] maskOption = [];
        if (maskShape != "none")
        {
            if (boolean) NpyFiles.WriteRaw(folder.File("m.npy"), "|b1", false, shape, bits.Select(b => b ? (byte)1 : (byte)0).ToArray());
            else NpyFiles.WriteRaw(folder.File("m.npy"), "<f4", false, shape, NpyFiles.Bytes(bias));
            maskOption = ["--mask", folder.File("m.npy")];
        }

        string[] weightsOption = withWeights ? ["--weights", folder.File("w.npy")] : [];
        var result = Tool.Run(["run", "--query", folder.File("q.npy"), "--key", folder.File("k.npy"), "--value", folder.File("v.npy"),
                               "--heads", "4", "--kv-heads", "2", "--causal", "--softcap", "2.5", "--alibi-slopes", "0.5,0.25,0.125,0.0625",
                               "--sinks", "0.3,-1,2.5,0", .. maskOption, "--lse", folder.File("lse.npy"), "--out", folder.File("o.npy"), .. weightsOption]);
        Assert.True(result.ExitCode == 0, result.ToString());

        var attentionShape = new AttentionShape(batch, nq, nk, heads, 3) { KvHeads = 2 };
        var options = new AttentionOptions { IsCausal = true, SoftCap = 2.5f };
        float[] expected = new float[batch * nq * heads * 3], expectedLse = new float[batch * heads * nq];
        var headDims = shape.Length >= 3 ? shape[^3] : 1;
        var strides = new AttentionMaskStrides(shape.Length == 4 && shape[0] != 1 ? (long)heads * nq * nk : 0, headDims != 1 ? nq * nk : 0, nk, 1);
        var modifiers = new AttentionModifiers
        {
            AlibiSlopes = new float[] { 0.5f, 0.25f, 0.125f, 0.0625f }, Sinks = new float[] { 0.3f, -1f, 2.5f, 0f }, LogSumExp = expectedLse,
            BooleanMask = maskShape != "none" && boolean ? bits : default, AdditiveMask = maskShape != "none" && !boolean ? bias : default, MaskStrides = strides,
        };
        NaiveAttention.ComputeMultiHead(q, k, v, expected, attentionShape, modifiers, options);
        AssertClose(expected, Npy.ReadFile(folder.File("o.npy")).Data);
        var lse = Npy.ReadFile(folder.File("lse.npy"));
        Assert.Equal(new[] { batch, heads, nq }, lse.Shape);
        AssertClose(expectedLse, lse.Data);
        if (withWeights)
        {
            Assert.Equal(new[] { batch, heads, nq, nk }, Npy.ReadFile(folder.File("w.npy")).Shape);
        }
    }

    [Fact]
    public void LseWithKeyLengths_MatchesThePaddedReference()
    {
        using var folder = new TempFolder();
        float[] q = NpyFiles.WriteRandom(folder.File("q.npy"), 4, 2, 6, 2 * 4);
        float[] k = NpyFiles.WriteRandom(folder.File("k.npy"), 5, 2, 6, 2 * 4);
        float[] v = NpyFiles.WriteRandom(folder.File("v.npy"), 6, 2, 6, 2 * 4);
        var result = Tool.Run("run", "--query", folder.File("q.npy"), "--key", folder.File("k.npy"), "--value", folder.File("v.npy"), "--heads", "2",
                              "--key-lengths", "6,3", "--alibi-slopes", "0.5,0.25", "--lse", folder.File("lse.npy"), "--out", folder.File("o.npy"));
        Assert.True(result.ExitCode == 0, result.ToString());
        float[] expected = new float[2 * 6 * 8], expectedLse = new float[2 * 2 * 6];
        NaiveAttention.ComputeMultiHeadPadded(q, k, v, expected, new AttentionShape(2, 6, 6, 2, 4), [6, 3], [],
                                              new AttentionModifiers { AlibiSlopes = new float[] { 0.5f, 0.25f }, LogSumExp = expectedLse });
        AssertClose(expected, Npy.ReadFile(folder.File("o.npy")).Data);
        AssertClose(expectedLse, Npy.ReadFile(folder.File("lse.npy")).Data);
        Assert.Contains("lse.npy", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--softcap", "0", "--softcap")]
    [InlineData("--softcap", "nan", "--softcap")]
    [InlineData("--alibi-slopes", "0.5,x", "--alibi-slopes")]
    [InlineData("--alibi-slopes", "0.5", "expected 2 values")]
    [InlineData("--sinks", "1,inf", "--sinks")]
    [InlineData("--sinks", "1,2,3", "expected 2 values")]
    public void BadModifierOptionsAreRejected(string option, string text, string message)
    {
        using var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("q.npy"), 1, 3, 8);
        NpyFiles.WriteRandom(folder.File("k.npy"), 2, 5, 8);
        NpyFiles.WriteRandom(folder.File("v.npy"), 3, 5, 8);
        AssertUsageErrorWritesNothing(folder, ["--heads", "2", option, text, "--lse", folder.File("lse.npy")], message);
    }

    public static TheoryData<string, int[], string, string> BadMasks => new()
    {
        { "<f4", [3, 4], "expected shape", "got (3, 4)" },
        { "<f4", [3, 3, 5], "expected shape", "got (3, 3, 5)" },
        { "|b1", [5, 3], "expected shape", "got (5, 3)" },
        { "|b1", [2, 2, 3, 5], "expected shape", "[1 or 1" },
        { "<i4", [3, 5], "m.npy", "bool or float32" },
    };

    [Theory]
    [MemberData(nameof(BadMasks))]
    public void BadMasksAreRejected(string descr, int[] shape, string first, string second)
    {
        using var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("q.npy"), 1, 3, 8);
        NpyFiles.WriteRandom(folder.File("k.npy"), 2, 5, 8);
        NpyFiles.WriteRandom(folder.File("v.npy"), 3, 5, 8);
        int bytes = shape.Aggregate(1, (a, x) => a * x) * (descr == "|b1" ? 1 : 4);
        NpyFiles.WriteRaw(folder.File("m.npy"), descr, false, shape, new byte[bytes]);
        AssertUsageErrorWritesNothing(folder, ["--heads", "2", "--mask", folder.File("m.npy")], first, second);
    }

    [Fact]
    public void ABoolMaskWithABadByteOrTruncatedIsRejected()
    {
        using var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("q.npy"), 1, 3, 8);
        NpyFiles.WriteRandom(folder.File("k.npy"), 2, 5, 8);
        NpyFiles.WriteRandom(folder.File("v.npy"), 3, 5, 8);
        byte[] data = new byte[15];
        data[4] = 2;
        NpyFiles.WriteRaw(folder.File("m.npy"), "|b1", false, [3, 5], data);
        AssertUsageErrorWritesNothing(folder, ["--heads", "2", "--mask", folder.File("m.npy")], "element 4", "got byte 2");
        NpyFiles.WriteRaw(folder.File("m.npy"), "|b1", false, [3, 5], new byte[14]);
        AssertUsageErrorWritesNothing(folder, ["--heads", "2", "--mask", folder.File("m.npy")], "expected 15 bytes", "found 14");
        NpyFiles.WriteRaw(folder.File("m.npy"), "|b1", true, [3, 5], new byte[15]);
        AssertUsageErrorWritesNothing(folder, ["--heads", "2", "--mask", folder.File("m.npy")], "C-order");
    }

    [Fact]
    public void LseMustNotNameAnInputOrAnotherOutput()
    {
        using var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("q.npy"), 1, 3, 8);
        NpyFiles.WriteRandom(folder.File("k.npy"), 2, 5, 8);
        NpyFiles.WriteRandom(folder.File("v.npy"), 3, 5, 8);
        NpyFiles.WriteRaw(folder.File("m.npy"), "<f4", false, [3, 5], new byte[60]);
        AssertUsageErrorWritesNothing(folder, ["--heads", "2", "--lse", folder.File("k.npy")], "--lse");
        AssertUsageErrorWritesNothing(folder, ["--heads", "2", "--mask", folder.File("m.npy"), "--lse", folder.File("m.npy")], "--lse");
        AssertUsageErrorWritesNothing(folder, ["--heads", "2", "--lse", folder.File("o.npy")], "same file");
    }

    [Fact]
    public void SinksWithTheSumNormalisationAreRefusedByTheLibrary()
    {
        using var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("q.npy"), 1, 3, 8);
        NpyFiles.WriteRandom(folder.File("k.npy"), 2, 5, 8);
        NpyFiles.WriteRandom(folder.File("v.npy"), 3, 5, 8);
        AssertUsageErrorWritesNothing(folder, ["--heads", "2", "--sinks", "0,0", "--normalization", "sum"], "Sinks", "softmax");
    }

    // Writes a good key and value and a bad query made by `write`, then expects exit 2, one line naming the file and
    // the problem, and no output files.
    private static void AssertRejected(Action<string> write, string problem)
    {
        using var folder = new TempFolder();
        write(folder.File("q.npy"));
        NpyFiles.WriteRandom(folder.File("k.npy"), 2, 5, 4);
        NpyFiles.WriteRandom(folder.File("v.npy"), 3, 5, 4);
        AssertUsageErrorWritesNothing(folder, ["--heads", "1"], "q.npy", problem);
    }

    private static void AssertUsageErrorWritesNothing(TempFolder folder, string[] options, params string[] fragments) =>
        AssertUsageErrorWritesNothing(folder, options, withWeights: true, fragments);

    // With or without a --weights output next to --out.
    private static void AssertUsageErrorWritesNothing(TempFolder folder, string[] options, bool withWeights, params string[] fragments)
    {
        string[] before = folder.Files();
        string[] weights = withWeights ? ["--weights", folder.File("w.npy")] : [];
        var result = Tool.Run(["run", "--query", folder.File("q.npy"), "--key", folder.File("k.npy"), "--value", folder.File("v.npy"),
                               .. options, "--out", folder.File("o.npy"), .. weights]);
        Tool.AssertUsageError(result, fragments);
        Assert.Equal("", result.Output);
        Assert.Equal(before, folder.Files());
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= Tolerance + Tolerance * Math.Abs(expected[i]),
                $"element {i}: expected {expected[i]}, actual {actual[i]}");
        }
    }
}
