using CommunityToolkit.HighPerformance;
using SelfAttention.Reference;
using Xunit;

namespace SelfAttention.Tests.RedTeam;

/// <summary>
/// README "Bad input": a size that does not match throws an ArgumentException naming the parameter, with expected and
/// actual, before anything is written; never IndexOutOfRange, never a read or write outside the caller's views.
/// These are the holes the existing Adversarial suite does not probe: views whose <em>other</em> dimension is 0.
/// </summary>
public class RedValidationTests
{
    private const float Sentinel = 12345.5f;

    private static void Run(string entry, ReadOnlySpan2D<float> q, ReadOnlySpan2D<float> k, ReadOnlySpan2D<float> v, Span2D<float> o, Span2D<float> w)
    {
        switch (entry)
        {
            case "Attention.Compute": Attention.Compute(q, k, v, o); break;
            case "Attention.Compute+weights": Attention.Compute(q, k, v, o, w); break;
            case "NaiveAttention.Compute": NaiveAttention.Compute(q, k, v, o); break;
            case "NaiveAttention.Compute+weights": NaiveAttention.Compute(q, k, v, o, w); break;
        }
    }

    public static TheoryData<string> Entries() => new("Attention.Compute", "Attention.Compute+weights", "NaiveAttention.Compute", "NaiveAttention.Compute+weights");

    public static TheoryData<string> WeightEntries() => new("Attention.Compute+weights", "NaiveAttention.Compute+weights");

    /// <summary>
    /// FAILS. Five keys but a value view of [5, 0] (width 0, height 5) and an output of [3, 6]. The value dim is taken
    /// from the output when the value view reports width 0 (AttentionValidation.ValidateSingleHead: "valueDim =
    /// value.Width != 0 ? value.Width : output.Width") and the value's width is never compared with it, so the call is
    /// accepted: Attention.Compute reads 6 floats of each "value row" from outside the view (here a 1-float buffer:
    /// past the end of the array), NaiveAttention throws IndexOutOfRangeException from the Span2D indexer.
    /// Expected: ArgumentException naming "value" (or "output"), the output untouched.
    /// </summary>
    [Theory]
    [MemberData(nameof(Entries))]
    public void ValueViewOfWidthZero_WithKeys_IsRejected(string entry)
    {
        var q = new float[3, 4];
        var k = new float[5, 4];
        var valueStorage = new float[] { 1f };
        var output = new float[3 * 6];
        var weights = new float[3 * 5];
        Array.Fill(output, Sentinel);
        Array.Fill(weights, Sentinel);
        var ex = Record.Exception(() => Run(entry, q, k, new ReadOnlySpan2D<float>(valueStorage, 0, 5, 0, 0), new Span2D<float>(output, 3, 6), new Span2D<float>(weights, 3, 5)));
        Assert.True(ex is ArgumentException, $"{entry}: expected ArgumentException, got {ex?.GetType().Name ?? "no exception"}; output[0] = {output[0]}");
        Assert.Contains(((ArgumentException)ex!).ParamName, new[] { "value", "output" });
        Assert.All(output, x => Assert.Equal(Sentinel, x));
        Assert.All(weights, x => Assert.Equal(Sentinel, x));
    }

    /// <summary>
    /// FAILS. Three query rows and five keys, but the weights view is Span2D.Empty ([0, 0]). Agrees(actual, expected,
    /// other) accepts 0 whenever the other dimension is 0, and both dimensions of Empty are 0, so both checks pass for
    /// any query and key length; the call then treats "no weights" as "weights not requested" (RunSingleHead:
    /// weights.Height == 0 ? null) and returns without the weights the caller asked for. Expected: ArgumentException
    /// naming "weights" (expected 3 × 5, actual 0 × 0).
    /// </summary>
    [Theory]
    [MemberData(nameof(WeightEntries))]
    public void EmptyWeightsView_ForThreeByFive_IsRejected(string entry)
    {
        var q = new float[3, 4];
        var k = new float[5, 4];
        var v = new float[5, 6];
        var output = new float[3 * 6];
        Array.Fill(output, Sentinel);
        var ex = Record.Exception(() => Run(entry, q, k, v, new Span2D<float>(output, 3, 6), Span2D<float>.Empty));
        Assert.True(ex is ArgumentException, $"{entry}: expected ArgumentException for a [0, 0] weights view, got {ex?.GetType().Name ?? "no exception"}");
        Assert.Equal("weights", ((ArgumentException)ex!).ParamName);
        Assert.All(output, x => Assert.Equal(Sentinel, x));
    }

    /// <summary>Regression guard: a key view of [5, 0] against a 4-wide query is rejected (the key width is compared).</summary>
    [Theory]
    [MemberData(nameof(Entries))]
    public void KeyViewOfWidthZero_WithKeys_IsRejected(string entry)
    {
        var q = new float[3, 4];
        var v = new float[5, 6];
        var output = new float[3 * 6];
        Array.Fill(output, Sentinel);
        var ex = Record.Exception(() => Run(entry, q, new ReadOnlySpan2D<float>(new float[1], 0, 5, 0, 0), v, new Span2D<float>(output, 3, 6), new Span2D<float>(new float[15], 3, 5)));
        Assert.IsAssignableFrom<ArgumentException>(ex);
        Assert.Equal("key", ((ArgumentException)ex!).ParamName);
        Assert.All(output, x => Assert.Equal(Sentinel, x));
    }

    /// <summary>Regression guard: options at the edges of their ranges either run or throw ArgumentException naming "options".</summary>
    [Theory]
    [InlineData(int.MaxValue, 1f)]
    [InlineData(int.MinValue, 1f)]
    [InlineData(-2, 1f)]
    [InlineData(0, float.NaN)]
    [InlineData(0, -0f)]
    [InlineData(0, float.PositiveInfinity)]
    [InlineData(0, -1e-45f)]
    [InlineData(0, float.Epsilon)]
    public void OptionEdges_RunOrNameOptions(int degree, float scale)
    {
        var q = new float[3, 4];
        var output = new float[3 * 4];
        Array.Fill(output, Sentinel);
        var ex = Record.Exception(() => Attention.Compute(q, q.AsSpan2D(), q.AsSpan2D(), new Span2D<float>(output, 3, 4),
                                                          new AttentionOptions { MaxDegreeOfParallelism = degree, Scale = scale }));
        bool valid = degree >= -1 && float.IsFinite(scale) && scale > 0;
        if (valid)
        {
            Assert.Null(ex);
        }
        else
        {
            Assert.IsAssignableFrom<ArgumentException>(ex);
            Assert.Equal("options", ((ArgumentException)ex!).ParamName);
            Assert.All(output, x => Assert.Equal(Sentinel, x));
        }
    }

    /// <summary>Regression guard: undefined enums in options and in the KvCache constructor.</summary>
    [Fact]
    public void UndefinedEnums_AreRejected()
    {
        var q = new float[2, 4];
        var o = new float[2, 4];
        Assert.Equal("options", Assert.ThrowsAny<ArgumentException>(() => Attention.Compute(q, q, q, o, new AttentionOptions { Normalization = (AttentionNormalization)7 })).ParamName);
        Assert.Equal("options", Assert.ThrowsAny<ArgumentException>(() => Attention.Compute(q, q, q, o, new AttentionOptions { Kernel = (AttentionKernel)(-1) })).ParamName);
        Assert.Equal("storage", Assert.ThrowsAny<ArgumentException>(() => new KvCache(4, 1, 4, storage: (KvCacheStorage)4)).ParamName);
    }
}
