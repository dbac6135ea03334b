using SelfAttention.Reference;
using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// Hostile calls to <see cref="Attention.ComputeMultiHeadPacked(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionOptions)"/> and <see cref="NaiveAttention.ComputeMultiHeadPacked(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionOptions)"/>:
/// offsets of the wrong length, not starting at 0, decreasing, making a sequence longer than the shape's lengths, at
/// <see cref="int.MinValue"/> and <see cref="int.MaxValue"/>, buffers that do not hold the offsets' totals, aliasing and
/// bad options or shapes, each rejected naming its parameter before anything is written.
/// </summary>
public class PackedAdversarialTests
{
    // The valid base: 3 sequences of queries [2, 4, 0] and keys [6, 1, 3] (max 4 and 6), H = 2, KvH = 1, d = 4, dv = 3.
    private static readonly AttentionShape s_shape = new(3, 4, 6, 2, 4) { KvHeads = 1, ValueDim = 3 };
    private static readonly int[] s_queryOffsets = [0, 2, 6, 6], s_keyOffsets = [0, 6, 7, 10];
    private const int QueryCount = 6 * 2 * 4, KeyCount = 10 * 1 * 4, ValueCount = 10 * 1 * 3, OutputCount = 6 * 2 * 3;

    private static readonly string[] s_targets = [Api.AttentionComputeMultiHeadPacked, Api.NaiveComputeMultiHeadPacked];

    internal static BadCallTable Table { get; } = Build();

    public static TheoryData<string> Names => Table.Names();

    [Theory]
    [MemberData(nameof(Names))]
    public void BadCall_IsRejectedBeforeAnythingIsWritten(string name) => Table.Run(name);

    private sealed record Fault(string Parameter, int[] QueryOffsets, int[] KeyOffsets, string[] Quotes, AttentionShape? Shape = null,
                                AttentionOptions Options = default, int Query = QueryCount, int Key = KeyCount, int Output = OutputCount, bool OutputIsQuery = false);

    private static BadCallTable Build()
    {
        int[] q = s_queryOffsets, k = s_keyOffsets;
        var faults = new Dictionary<string, Fault>
        {
            ["query offsets empty"] = new("queryOffsets", [], k, ["4", "0"]),
            ["query offsets one short"] = new("queryOffsets", [0, 2, 6], k, ["4", "3"]),
            ["key offsets one long"] = new("keyOffsets", q, [0, 6, 7, 10, 10], ["4", "5"]),
            ["query offsets not from 0"] = new("queryOffsets", [1, 2, 6, 6], k, ["1"]),
            ["key offsets from -1"] = new("keyOffsets", q, [-1, 6, 7, 10], ["-1"]),
            ["query offsets decreasing"] = new("queryOffsets", [0, 2, 1, 6], k, ["1"]),
            ["a query sequence past shape.QueryLength"] = new("queryOffsets", [0, 5, 6, 6], k, ["5", "4"]),
            ["a key sequence past shape.KeyLength"] = new("keyOffsets", q, [0, 7, 7, 10], ["7", "6"]),
            ["key offsets int.MinValue"] = new("keyOffsets", q, [0, 6, int.MinValue, 10], ["-2147483648"]),
            ["key offsets int.MaxValue"] = new("keyOffsets", q, [0, 6, 7, int.MaxValue], ["2147483647"]),
            ["query one short of the offsets' total"] = new("query", q, k, [$"{QueryCount}", $"{QueryCount - 1}"], Query: QueryCount - 1),
            ["key one long"] = new("key", q, k, [$"{KeyCount}", $"{KeyCount + 1}"], Key: KeyCount + 1),
            ["output one short"] = new("output", q, k, [$"{OutputCount}", $"{OutputCount - 1}"], Output: OutputCount - 1),
            ["output over the query"] = new("output", q, k, [], OutputIsQuery: true, Shape: s_shape with { ValueDim = 4, KvHeads = 2 }),
            ["shape batch -1"] = new("shape", q, k, [], s_shape with { Batch = -1 }),
            ["shape heads 0, bad offsets too: the shape first"] = new("shape", [-1], k, [], s_shape with { Heads = 0 }),
        };

        foreach ((string name, AttentionOptions options) in SingleHeadAdversarialTests.BadOptions())
        {
            faults[$"options: {name}"] = new("options", q, k, [], Options: options);
        }

        var table = new BadCallTable();
        foreach (string target in s_targets)
        {
            foreach ((string name, Fault fault) in faults)
            {
                table.Add($"{(target == Api.AttentionComputeMultiHeadPacked ? "Attention" : "NaiveAttention")}.ComputeMultiHeadPacked: {name}", () => Make(target, fault));
            }
        }

        return table;
    }

    private static BadCall Make(string target, Fault fault)
    {
        var shape = fault.Shape ?? s_shape;
        float[] q = BadCall.Sentinels(fault.Query), k = BadCall.Sentinels(fault.OutputIsQuery ? 10 * 2 * 4 : fault.Key), v = BadCall.Sentinels(fault.OutputIsQuery ? 10 * 2 * 4 : ValueCount);
        float[] o = fault.OutputIsQuery ? [] : BadCall.Sentinels(fault.Output);
        return new BadCall
        {
            Target = target,
            Parameter = fault.Parameter,
            Watched = [q, k, v, o],
            Quotes = fault.Quotes,
            Call = () =>
            {
                Span<float> output = fault.OutputIsQuery ? q : o; // with dv = d the output is exactly the query's size
                Run(target, q, k, v, output, shape, fault.QueryOffsets, fault.KeyOffsets, fault.Options);
            },
        };
    }

    private static void Run(string target, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> o, AttentionShape shape,
                            ReadOnlySpan<int> queryOffsets, ReadOnlySpan<int> keyOffsets, AttentionOptions options = default)
    {
        if (target == Api.AttentionComputeMultiHeadPacked) Attention.ComputeMultiHeadPacked(q, k, v, o, shape, queryOffsets, keyOffsets, options);
        else NaiveAttention.ComputeMultiHeadPacked(q, k, v, o, shape, queryOffsets, keyOffsets, options);
    }
}
