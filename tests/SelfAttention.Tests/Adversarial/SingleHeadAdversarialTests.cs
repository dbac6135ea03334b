using CommunityToolkit.HighPerformance;
using SelfAttention.Reference;
using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// Hostile calls to the four single-head entry points (<see cref="Attention.Compute(ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, Span2D{float}, AttentionOptions)"/>,
/// its weights overload, and the two of <see cref="NaiveAttention"/>): every fault against every entry point that has
/// the parameter, all five buffers sentinel-filled and watched; then the valid edges (no query rows, no keys, one row).
/// </summary>
public class SingleHeadAdversarialTests
{
    /// <summary>A view over buffer <paramref name="Buffer"/> (0 query, 1 key, 2 value, 3 output, 4 weights).</summary>
    private sealed record View(int Buffer, int Offset, int Height, int Width, int Pitch = 0);

    private sealed record Setup(View Query, View Key, View Value, View Output, View Weights, AttentionOptions Options);

    // The valid base: nq = 3, nk = 5, d = 4, dv = 6, each view alone in its 64-float buffer.
    private static readonly Setup s_base = new(new(0, 0, 3, 4), new(1, 0, 5, 4), new(2, 0, 5, 6), new(3, 0, 3, 6), new(4, 0, 3, 5), default);
    private const int BufferLength = 64;

    private static readonly string[] s_targets = [Api.AttentionCompute, Api.AttentionComputeWeights, Api.NaiveCompute, Api.NaiveComputeWeights];

    private static bool HasWeights(string target) => target is Api.AttentionComputeWeights or Api.NaiveComputeWeights;

    internal static BadCallTable Table { get; } = Build();

    public static TheoryData<string> Names => Table.Names();

    [Theory]
    [MemberData(nameof(Names))]
    public void BadCall_IsRejectedBeforeAnythingIsWritten(string name) => Table.Run(name);

    private static BadCallTable Build()
    {
        var faults = new List<(string Name, string Parameter, bool WeightsOnly, Setup Setup, string[] Quotes)>
        {
            ("head dim 0", "query", false, s_base with { Query = s_base.Query with { Width = 0 }, Key = s_base.Key with { Width = 0 } }, ["1", "0"]),
            ("key narrower than query", "key", false, s_base with { Key = s_base.Key with { Width = 3 } }, ["4", "3"]),
            ("key wider than query", "key", false, s_base with { Key = s_base.Key with { Width = 5 } }, ["4", "5"]),
            ("value shorter than key", "value", false, s_base with { Value = s_base.Value with { Height = 4 } }, ["5", "4"]),
            ("value longer than key", "value", false, s_base with { Value = s_base.Value with { Height = 6 } }, ["5", "6"]),
            ("output shorter than query", "output", false, s_base with { Output = s_base.Output with { Height = 2 } }, ["3", "2"]),
            ("output narrower than value", "output", false, s_base with { Output = s_base.Output with { Width = 5 } }, ["6", "5"]),
            ("output empty for three rows", "output", false, s_base with { Output = s_base.Output with { Height = 0 } }, ["3", "0"]),
            ("weights short a row", "weights", true, s_base with { Weights = s_base.Weights with { Height = 2 } }, ["3", "2"]),
            ("weights short a column", "weights", true, s_base with { Weights = s_base.Weights with { Width = 4 } }, ["5", "4"]),
            ("weights a column too many", "weights", true, s_base with { Weights = s_base.Weights with { Width = 6 } }, ["5", "6"]),
            ("output overlaps query", "output", false, s_base with { Output = s_base.Output with { Buffer = 0, Offset = 11 } }, []),
            ("output overlaps key", "output", false, s_base with { Output = s_base.Output with { Buffer = 1 } }, []),
            ("output overlaps value's last element", "output", false, s_base with { Output = s_base.Output with { Buffer = 2, Offset = 29 } }, []),
            ("output is the value", "output", false, s_base with { Output = s_base.Output with { Buffer = 2, Height = 3, Width = 6 }, Value = s_base.Value with { Height = 5 } }, []),
            ("weights overlap output", "weights", true, s_base with { Weights = s_base.Weights with { Buffer = 3, Offset = 17 } }, []),
            ("weights overlap query", "weights", true, s_base with { Weights = s_base.Weights with { Buffer = 0 } }, []),
            ("weights overlap key", "weights", true, s_base with { Weights = s_base.Weights with { Buffer = 1, Offset = 5 } }, []),
            ("weights overlap value", "weights", true, s_base with { Weights = s_base.Weights with { Buffer = 2, Offset = 20 } }, []),
        };

        foreach ((string name, AttentionOptions options) in BadOptions())
        {
            faults.Add(($"options: {name}", "options", false, s_base with { Options = options }, []));
        }

        var table = new BadCallTable();
        foreach (string target in s_targets)
        {
            foreach (var fault in faults)
            {
                if (fault.WeightsOnly && !HasWeights(target))
                {
                    continue;
                }

                var (setup, parameter, quotes) = (fault.Setup, fault.Parameter, fault.Quotes);
                table.Add($"{Short(target)}: {fault.Name}", () =>
                {
                    float[][] buffers = [.. Enumerable.Range(0, 5).Select(_ => BadCall.Sentinels(BufferLength))];
                    return new BadCall
                    {
                        Target = target,
                        Parameter = parameter,
                        Call = () => Run(target, buffers, setup),
                        Watched = buffers,
                        Quotes = quotes,
                    };
                });
            }
        }

        return table;
    }

    /// <summary>Options no entry point may accept: non-finite, zero, negative and subnormal-to-zero scales, undefined enums, parallelism below −1.</summary>
    internal static IEnumerable<(string Name, AttentionOptions Options)> BadOptions() =>
    [
        ("scale NaN", new() { Scale = float.NaN }),
        ("scale +inf", new() { Scale = float.PositiveInfinity }),
        ("scale -inf", new() { Scale = float.NegativeInfinity }),
        ("scale 0", new() { Scale = 0f }),
        ("scale -0", new() { Scale = -0f }),
        ("scale -1", new() { Scale = -1f }),
        ("scale 1e-46 (rounds to 0)", new() { Scale = 1e-46f }),
        ("scale float.MinValue", new() { Scale = float.MinValue }),
        ("normalization 2", new() { Normalization = (AttentionNormalization)2 }),
        ("normalization -1", new() { Normalization = (AttentionNormalization)(-1) }),
        ("kernel one past the last", new() { Kernel = (AttentionKernel)(Enum.GetValues<AttentionKernel>().Max(k => (int)k) + 1) }),
        ("kernel -1", new() { Kernel = (AttentionKernel)(-1) }),
        ("kernel int.MinValue", new() { Kernel = (AttentionKernel)int.MinValue }),
        ("parallelism -2", new() { MaxDegreeOfParallelism = -2 }),
        ("parallelism int.MinValue", new() { MaxDegreeOfParallelism = int.MinValue }),
        ("causal alignment 2", new() { IsCausal = true, CausalAlignment = (CausalAlignment)2 }),
        ("causal alignment -1 without causal", new() { CausalAlignment = (CausalAlignment)(-1) }),
        ("window left -2", new() { Window = new AttentionWindow(-2, 0) }),
        ("window right int.MinValue", new() { IsCausal = true, Window = new AttentionWindow(4, int.MinValue) }),
        ("window both int.MinValue", new() { Window = new AttentionWindow(int.MinValue, int.MinValue) }),
    ];

    private static string Short(string target) => target switch
    {
        Api.AttentionCompute => "Attention.Compute",
        Api.AttentionComputeWeights => "Attention.Compute+weights",
        Api.NaiveCompute => "NaiveAttention.Compute",
        _ => "NaiveAttention.Compute+weights",
    };

    private static void Run(string target, float[][] buffers, Setup setup)
    {
        ReadOnlySpan2D<float> q = View2D(buffers, setup.Query), k = View2D(buffers, setup.Key), v = View2D(buffers, setup.Value);
        Span2D<float> o = View2D(buffers, setup.Output), w = View2D(buffers, setup.Weights);
        switch (target)
        {
            case Api.AttentionCompute: Attention.Compute(q, k, v, o, setup.Options); break;
            case Api.AttentionComputeWeights: Attention.Compute(q, k, v, o, w, setup.Options); break;
            case Api.NaiveCompute: NaiveAttention.Compute(q, k, v, o, setup.Options); break;
            default: NaiveAttention.Compute(q, k, v, o, w, setup.Options); break;
        }
    }

    private static Span2D<float> View2D(float[][] buffers, View view) =>
        buffers[view.Buffer].AsSpan().AsSpan2D(view.Offset, view.Height, view.Width, view.Pitch);

    public static TheoryData<string> Targets() => new(s_targets);

    // No query rows is valid: nothing to compute, nothing written. A zero-height Span2D reports width 0, so the query's
    // head dim cannot be checked when it has no rows.
    private static void AssertNoQueryRowsWriteNothing(string target)
    {
        float[][] buffers = [.. Enumerable.Range(0, 5).Select(_ => BadCall.Sentinels(BufferLength))];
        var setup = s_base with { Query = s_base.Query with { Height = 0 }, Output = s_base.Output with { Height = 0 }, Weights = s_base.Weights with { Height = 0 } };
        Run(target, buffers, setup);
        Assert.All(buffers.SelectMany(b => b), x => Assert.Equal(BadCall.Sentinel, x));
    }

    [Fact]
    public void NoQueryRows_AttentionCompute_WritesNothing() => AssertNoQueryRowsWriteNothing(Api.AttentionCompute);

    [Fact]
    public void NoQueryRows_AttentionComputeWeights_WritesNothing() => AssertNoQueryRowsWriteNothing(Api.AttentionComputeWeights);

    [Fact]
    public void NoQueryRows_NaiveCompute_WritesNothing() => AssertNoQueryRowsWriteNothing(Api.NaiveCompute);

    [Fact]
    public void NoQueryRows_NaiveComputeWeights_WritesNothing() => AssertNoQueryRowsWriteNothing(Api.NaiveComputeWeights);

    [Theory]
    [MemberData(nameof(Targets))]
    public void OneRowOneKey_GivesTheValueRow(string target)
    {
        float[][] buffers = [.. Enumerable.Range(0, 5).Select(_ => BadCall.Sentinels(BufferLength))];
        buffers[0][0] = 3f;
        buffers[1][0] = -2f;
        for (int c = 0; c < 6; c++)
        {
            buffers[2][c] = c - 2.5f;
        }

        var setup = new Setup(new(0, 0, 1, 1), new(1, 0, 1, 1), new(2, 0, 1, 6), new(3, 0, 1, 6), new(4, 0, 1, 1), default);
        Run(target, buffers, setup);
        Assert.Equal(buffers[2].AsSpan(0, 6).ToArray(), buffers[3].AsSpan(0, 6).ToArray());
        if (HasWeights(target))
        {
            Assert.Equal(1f, buffers[4][0]);
        }

        Assert.All(buffers[3].AsSpan(6).ToArray(), x => Assert.Equal(BadCall.Sentinel, x));
    }

    // Zero keys are valid everywhere: every query row sees no key and gets output 0 (weights [3, 0] are empty). A
    // zero-height Span2D reports width 0 (CommunityToolkit 7.1.2), whatever width it was made with, so the key's width
    // cannot be compared with the query's when it has no rows.
    private static void AssertZeroKeysGiveZeros(string target)
    {
        float[][] buffers = [.. Enumerable.Range(0, 5).Select(_ => BadCall.Sentinels(BufferLength))];
        var setup = s_base with { Key = s_base.Key with { Height = 0 }, Value = s_base.Value with { Height = 0 }, Weights = s_base.Weights with { Width = 0 } };
        Run(target, buffers, setup);
        Assert.All(buffers[3].AsSpan(0, 18).ToArray(), x => Assert.Equal(0f, x));
        Assert.All(buffers[3].AsSpan(18).ToArray(), x => Assert.Equal(BadCall.Sentinel, x));
        Assert.All(buffers[4], x => Assert.Equal(BadCall.Sentinel, x));
    }

    [Fact]
    public void ZeroKeys_AttentionCompute_GivesZeros() => AssertZeroKeysGiveZeros(Api.AttentionCompute);

    [Fact]
    public void ZeroKeys_AttentionComputeWeights_GivesZeros() => AssertZeroKeysGiveZeros(Api.AttentionComputeWeights);

    [Fact]
    public void ZeroKeys_NaiveCompute_GivesZeros() => AssertZeroKeysGiveZeros(Api.NaiveCompute);

    [Fact]
    public void ZeroKeys_NaiveComputeWeights_GivesZeros() => AssertZeroKeysGiveZeros(Api.NaiveComputeWeights);
}
