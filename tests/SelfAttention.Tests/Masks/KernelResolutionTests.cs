using SelfAttention.Kernels;
using Xunit;

namespace SelfAttention.Tests.Masks;

/// <summary>
/// <see cref="KernelDispatch.Resolve"/>, the one place that decides which kernel runs: the calls that tests elsewhere
/// name for a kernel resolve to it (or, where they cannot, say why), and a kernel that cannot serve an option is
/// reported with a reason instead of being swapped silently.
/// </summary>
public unsafe class KernelResolutionTests
{
    /// <summary>Resolves a BSNH call of this shape and these options (no buffers are read).</summary>
    internal static KernelResolution Resolve(AttentionShape shape, AttentionOptions options, bool weights = false, float? scale = null)
    {
        int kvHeads = shape.KvHeads == 0 ? shape.Heads : shape.KvHeads, valueDim = shape.ValueDim == 0 ? shape.HeadDim : shape.ValueDim;
        var problem = AttentionProblem.Create(null, shape.Heads * shape.HeadDim, null, kvHeads * shape.HeadDim, null, kvHeads * valueDim,
                                              null, shape.Heads * valueDim, shape.Batch, shape.Heads, kvHeads, shape.QueryLength, shape.KeyLength,
                                              shape.KeyLength, shape.HeadDim, valueDim, scale ?? options.Scale ?? 1f / MathF.Sqrt(shape.HeadDim), options);
        if (weights)
        {
            float dummy = 0;
            problem = problem with { Weights = &dummy, WeightsRowStride = shape.KeyLength };
        }

        return KernelDispatch.Resolve(problem, options.Kernel);
    }

    public static TheoryData<string, AttentionShape, AttentionOptions, string> NamedCases => new()
    {
        // Concurrency/ConcurrentAttentionTests.
        { "tiled", new AttentionShape(1, 96, 80, 4, 32), new AttentionOptions { Kernel = AttentionKernel.Tiled }, "Tiled" },
        { "tiled causal", new AttentionShape(2, 64, 64, 2, 64), new AttentionOptions { IsCausal = true }, "Tiled" },
        { "decode gqa", new AttentionShape(2, 1, 600, 8, 64) { KvHeads = 2 }, new AttentionOptions { Kernel = AttentionKernel.Decode }, "Decode" },
        { "row by row", new AttentionShape(1, 20, 33, 3, 24), new AttentionOptions { Kernel = AttentionKernel.RowByRow }, "RowByRow" },
        { "sum", new AttentionShape(1, 40, 40, 2, 16), new AttentionOptions { Normalization = AttentionNormalization.Sum }, "RowByRow" },

        // Allocation/LongSequenceMemoryTests.
        { "long keys, tiled causal", new AttentionShape(1, 128, 32_768, 1, 128), new AttentionOptions { Kernel = AttentionKernel.Tiled, IsCausal = true }, "Tiled" },
        { "long keys, decode", new AttentionShape(1, 1, 32_768, 1, 128), new AttentionOptions { Kernel = AttentionKernel.Decode }, "Decode" },
        { "long keys, row by row causal", new AttentionShape(1, 8, 32_768, 1, 128), new AttentionOptions { Kernel = AttentionKernel.RowByRow, IsCausal = true }, "RowByRow" },

        // RedTeam/RedNumericTests.SubnormalPrescaledQuery_LosesTheScore: the tiled case is tiled.
        { "subnormal prescaled query, tiled", new AttentionShape(1, 64, 2, 1, 4096), new AttentionOptions { Kernel = AttentionKernel.Tiled, Scale = MathF.Pow(2, -126) }, "Tiled" },
    };

    [Theory]
    [MemberData(nameof(NamedCases))]
    public void TestsNamedForAKernel_RunThatKernel(string name, AttentionShape shape, AttentionOptions options, string kernel)
    {
        var expected = Enum.Parse<KernelChoice>(kernel);
        var resolution = Resolve(shape, options);
        Assert.True(resolution.Kernel == expected, $"{name}: resolves to {resolution.Kernel} ({resolution.Fallback}), expected {expected}");
        Assert.Null(resolution.Fallback);
    }

    [Fact]
    public void Auto_PicksByShape_AndNeverReportsAFallback()
    {
        var decode = Resolve(new AttentionShape(1, 1, 4096, 32, 128), default);
        var tiled = Resolve(new AttentionShape(1, 512, 512, 12, 64), default);
        var rows = Resolve(new AttentionShape(1, 1, 3, 1, 4), default);
        Assert.Equal(KernelChoice.Decode, decode.Kernel);
        Assert.Equal(KernelChoice.Tiled, tiled.Kernel);
        Assert.Equal(KernelChoice.RowByRow, rows.Kernel);
        Assert.Null(decode.Fallback);
        Assert.Null(tiled.Fallback);
        Assert.Null(rows.Fallback);
        Assert.Contains(tiled.VectorBits, new[] { 32, 128, 256, 512 });
    }

    [Theory]
    [InlineData(AttentionKernel.Tiled, AttentionNormalization.Sum, false, 64, "sum normalisation")]
    [InlineData(AttentionKernel.Tiled, AttentionNormalization.Softmax, true, 64, "weights")]
    [InlineData(AttentionKernel.Decode, AttentionNormalization.Sum, false, 1, "sum normalisation")]
    [InlineData(AttentionKernel.Decode, AttentionNormalization.Softmax, true, 1, "weights")]
    [InlineData(AttentionKernel.Decode, AttentionNormalization.Softmax, false, 9, "query rows")]
    public void AKernelThatCannotServeTheCall_IsReportedWithTheReason(AttentionKernel kernel, AttentionNormalization normalization, bool weights, int nq, string reason)
    {
        var resolution = Resolve(new AttentionShape(1, nq, 70, 1, 16), new AttentionOptions { Kernel = kernel, Normalization = normalization }, weights);
        Assert.Equal(KernelChoice.RowByRow, resolution.Kernel);
        Assert.NotNull(resolution.Fallback);
        Assert.Contains(reason, resolution.Fallback, StringComparison.Ordinal);
    }

    [Fact]
    public void AHugeScale_RunsEveryRowExactly_AndSaysSo()
    {
        // RedTeam/RedNumericTests.SubnormalProducts_HugeScale_LoseTheScore names the tiled kernel, but scale·headDim
        // passes 2¹¹⁰, so every row is computed exactly: reported, not hidden.
        var resolution = Resolve(new AttentionShape(1, 64, 2, 1, 4096), new AttentionOptions { Kernel = AttentionKernel.Tiled, Scale = MathF.Pow(2, 127) });
        Assert.Equal(KernelChoice.Exact, resolution.Kernel);
        Assert.Contains("exactly", resolution.Fallback, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEmptyCall_RunsNoKernel()
    {
        Assert.Equal(KernelChoice.None, Resolve(new AttentionShape(1, 4, 0, 2, 8), default).Kernel);
        Assert.Equal(KernelChoice.None, Resolve(new AttentionShape(0, 4, 4, 2, 8), new AttentionOptions { Kernel = AttentionKernel.Tiled }).Kernel);
    }
}
