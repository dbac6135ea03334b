using SelfAttention.Reference;
using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// Hostile calls to <see cref="Attention.ComputeMultiHead"/> and <see cref="NaiveAttention.ComputeMultiHead"/>: shapes with
/// negative, zero and overflowing sizes (each factor small, the product past <see cref="int.MaxValue"/>), buffers that
/// are one element long while the shape claims 2²⁶, aliasing, bad options; then the valid empty and one-row calls.
/// </summary>
public class MultiHeadAdversarialTests
{
    // The valid base: B = 2, nq = 3, nk = 5, H = 4, KvH = 2, d = 4, dv = 6.
    private static readonly AttentionShape s_shape = new(2, 3, 5, 4, 4) { KvHeads = 2, ValueDim = 6 };

    private static readonly string[] s_targets = [Api.AttentionComputeMultiHead, Api.NaiveComputeMultiHead];

    internal static BadCallTable Table { get; } = Build();

    public static TheoryData<string> Names => Table.Names();

    [Theory]
    [MemberData(nameof(Names))]
    public void BadCall_IsRejectedBeforeAnythingIsWritten(string name) => Table.Run(name);

    private static (long Query, long Key, long Value, long Output) Lengths(AttentionShape s) =>
        ((long)s.Batch * s.QueryLength * s.Heads * s.HeadDim, (long)s.Batch * s.KeyLength * s.KvHeads * s.HeadDim,
         (long)s.Batch * s.KeyLength * s.KvHeads * s.ValueDim, (long)s.Batch * s.QueryLength * s.Heads * s.ValueDim);

    /// <summary>A fault: the shape, and the buffer lengths (−1: what the shape asks for; a negative shape asks for 1).</summary>
    private sealed record Fault(string Parameter, AttentionShape Shape, int Query = -1, int Key = -1, int Value = -1, int Output = -1,
                                AttentionOptions Options = default, (int Buffer, int Offset)? OutputAlias = null, string[]? Quotes = null);

    private static BadCallTable Build()
    {
        const int big = 1 << 26;
        const string limit = "2147483647";
        var faults = new Dictionary<string, Fault>
        {
            ["batch -1"] = new("shape", s_shape with { Batch = -1 }, 1, 1, 1, 1, Quotes: ["-1"]),
            ["query length -1"] = new("shape", s_shape with { QueryLength = -1 }, 1, 1, 1, 1),
            ["key length int.MinValue"] = new("shape", s_shape with { KeyLength = int.MinValue }, 1, 1, 1, 1),
            ["heads 0"] = new("shape", s_shape with { Heads = 0 }, 1, 1, 1, 1),
            ["heads -4"] = new("shape", s_shape with { Heads = -4, KvHeads = -2 }, 1, 1, 1, 1),
            ["head dim 0"] = new("shape", s_shape with { HeadDim = 0 }, 1, 1, 1, 1),
            ["kv heads 0"] = new("shape", s_shape with { KvHeads = 0 }, 1, 1, 1, 1),
            ["value dim -6"] = new("shape", s_shape with { ValueDim = -6 }, 1, 1, 1, 1),
            ["heads not a multiple of kv heads"] = new("shape", s_shape with { KvHeads = 3 }, Quotes: ["3", "4"]),
            ["kv heads above heads"] = new("shape", s_shape with { KvHeads = 8 }),
            ["Heads·HeadDim overflows with no batch"] = new("shape", new AttentionShape(0, 3, 5, 1 << 16, 1 << 16) { KvHeads = 1 }, 0, 0, 0, 0, Quotes: [limit, "4294967296"]),
            ["Heads·ValueDim overflows with no rows"] = new("shape", new AttentionShape(1, 0, 0, 1 << 16, 1) { KvHeads = 1, ValueDim = 1 << 16 }, 0, 0, 0, 0, Quotes: [limit, "4294967296"]),
            ["Batch·QueryLength·Heads·HeadDim overflows, each factor 256"] = new("shape", new AttentionShape(256, 256, 1, 256, 256) { KvHeads = 1, ValueDim = 1 }, 0, 0, 0, 0, Quotes: [limit, "4294967296"]),
            ["Batch·KeyLength·KvHeads·ValueDim overflows, each factor 256"] = new("shape", new AttentionShape(256, 0, 256, 256, 1) { KvHeads = 256, ValueDim = 256 }, 0, 0, 0, 0, Quotes: [limit, "4294967296"]),
            ["all int.MaxValue"] = new("shape", new AttentionShape(int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue) { KvHeads = 1, ValueDim = int.MaxValue }, 0, 0, 0, 0),
            ["query one short"] = new("query", s_shape, Query: 95, Quotes: ["96", "95"]),
            ["query one long"] = new("query", s_shape, Query: 97, Quotes: ["96", "97"]),
            ["key one short"] = new("key", s_shape, Key: 79, Quotes: ["80", "79"]),
            ["key sized for all heads"] = new("key", s_shape, Key: 160, Quotes: ["80", "160"]),
            ["value sized with the head dim"] = new("value", s_shape, Value: 80, Quotes: ["120", "80"]),
            ["output one long"] = new("output", s_shape, Output: 145, Quotes: ["144", "145"]),
            ["output empty"] = new("output", s_shape, Output: 0, Quotes: ["144", "0"]),
            ["query of 1 where the shape claims 2^26"] = new("query", new AttentionShape(1, 1, 0, 1, big) { ValueDim = 1 }, Query: 1, Quotes: [$"{big}", "1"]),
            ["key of 1 where the shape claims 2^26"] = new("key", new AttentionShape(1, 0, 1, 1, big) { ValueDim = 1 }, Key: 1, Quotes: [$"{big}", "1"]),
            ["value of 1 where the shape claims 2^26"] = new("value", new AttentionShape(1, 0, 1, 1, 1) { ValueDim = big }, Value: 1, Quotes: [$"{big}", "1"]),
            ["output of 1 where the shape claims 2^26"] = new("output", new AttentionShape(1, 1, 0, 1, 1) { ValueDim = big }, Output: 1, Quotes: [$"{big}", "1"]),
            ["output is the query"] = new("output", s_shape with { ValueDim = 4 }, OutputAlias: (0, 0)),
            ["output starts on the query's last element"] = new("output", s_shape, OutputAlias: (0, 95)),
            ["output overlaps key's last element"] = new("output", s_shape, OutputAlias: (1, 79)),
            ["output overlaps value"] = new("output", s_shape, OutputAlias: (2, 100)),
        };

        foreach ((string name, AttentionOptions options) in SingleHeadAdversarialTests.BadOptions())
        {
            faults[$"options: {name}"] = new("options", s_shape, Options: options);
        }

        var table = new BadCallTable();
        foreach (string target in s_targets)
        {
            foreach ((string name, Fault fault) in faults)
            {
                table.Add($"{(target == Api.AttentionComputeMultiHead ? "Attention" : "NaiveAttention")}.ComputeMultiHead: {name}", () => Make(target, fault));
            }
        }

        return table;
    }

    private static BadCall Make(string target, Fault fault)
    {
        var lengths = fault.Shape.Batch < 0 || fault.Shape.QueryLength < 0 || fault.Shape.KeyLength < 0 ? (1, 1, 1, 1) : Lengths(fault.Shape);
        int[] sizes =
        [
            fault.Query >= 0 ? fault.Query : (int)lengths.Query, fault.Key >= 0 ? fault.Key : (int)lengths.Key,
            fault.Value >= 0 ? fault.Value : (int)lengths.Value, fault.Output >= 0 ? fault.Output : (int)lengths.Output,
        ];

        // Each buffer is a segment of its own array, except that an aliased output shares the array of the input it
        // overlaps (that array is made long enough for both).
        var arrays = new float[4][];
        var segments = new ArraySegment<float>[4];
        for (int b = 0; b < 3; b++)
        {
            int extra = fault.OutputAlias is { } a && a.Buffer == b ? Math.Max(0, a.Offset + sizes[3] - sizes[b]) : 0;
            arrays[b] = BadCall.Sentinels(sizes[b] + extra);
            segments[b] = new ArraySegment<float>(arrays[b], 0, sizes[b]);
        }

        if (fault.OutputAlias is { } alias)
        {
            arrays[3] = [];
            segments[3] = new ArraySegment<float>(arrays[alias.Buffer], alias.Offset, sizes[3]);
        }
        else
        {
            arrays[3] = BadCall.Sentinels(sizes[3]);
            segments[3] = arrays[3];
        }

        return new BadCall
        {
            Target = target,
            Parameter = fault.Parameter,
            Watched = arrays,
            Quotes = fault.Quotes ?? [],
            Call = () =>
            {
                if (target == Api.AttentionComputeMultiHead) Attention.ComputeMultiHead(segments[0], segments[1], segments[2], segments[3], fault.Shape, fault.Options);
                else NaiveAttention.ComputeMultiHead(segments[0], segments[1], segments[2], segments[3], fault.Shape, fault.Options);
            },
        };
    }

    public static TheoryData<string> Targets() => new(s_targets);

    private static void Run(string target, float[] q, float[] k, float[] v, float[] o, AttentionShape shape)
    {
        if (target == Api.AttentionComputeMultiHead) Attention.ComputeMultiHead(q, k, v, o, shape);
        else NaiveAttention.ComputeMultiHead(q, k, v, o, shape);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void ZeroBatch_WithHugeOtherSizes_ReturnsAtOnce(string target) =>
        Run(target, [], [], [], [], new AttentionShape(0, 1 << 20, 1 << 20, 64, 64) { KvHeads = 8 });

    [Theory]
    [MemberData(nameof(Targets))]
    public void ZeroQueryRows_ManyHeadsAndKeys_WritesNothing(string target)
    {
        var shape = new AttentionShape(1, 0, 1 << 16, 1 << 8, 1) { KvHeads = 1 };
        float[] k = new float[1 << 16], v = new float[1 << 16];
        Run(target, [], k, v, [], shape);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void ZeroKeys_GiveZeroRows(string target)
    {
        var shape = s_shape with { KeyLength = 0 };
        float[] q = BadCall.Sentinels(96), o = BadCall.Sentinels(144);
        Run(target, q, [], [], o, shape);
        Assert.All(o, x => Assert.Equal(0f, x));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void OneRowOneKey_GivesTheValueRow(string target)
    {
        var shape = new AttentionShape(1, 1, 1, 1, 1) { ValueDim = 3 };
        float[] o = BadCall.Sentinels(3);
        Run(target, [5f], [-1f], [1f, -2f, 3f], o, shape);
        Assert.Equal([1f, -2f, 3f], o);
    }
}
