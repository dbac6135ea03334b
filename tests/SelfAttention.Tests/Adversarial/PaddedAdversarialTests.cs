using SelfAttention.Reference;
using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// Hostile calls to <see cref="Attention.ComputeMultiHeadPadded"/> and <see cref="NaiveAttention.ComputeMultiHeadPadded"/>:
/// lengths spans of the wrong length, lengths that are negative, past the shape or at <see cref="int.MinValue"/> and
/// <see cref="int.MaxValue"/>, and the faults of the plain entry point (a bad shape, a short buffer, aliasing, bad
/// options), each rejected naming its parameter before anything is written; then the valid edges (no sequence, every
/// length 0).
/// </summary>
public class PaddedAdversarialTests
{
    // The valid base: B = 3, nq = 4, nk = 6, H = 2, KvH = 1, d = 4, dv = 3.
    private static readonly AttentionShape s_shape = new(3, 4, 6, 2, 4) { KvHeads = 1, ValueDim = 3 };
    // OutputCount = KeyCount, so the key buffer can pose as the output.
    private const int QueryCount = 3 * 4 * 2 * 4, KeyCount = 3 * 6 * 1 * 4, ValueCount = 3 * 6 * 1 * 3, OutputCount = 3 * 4 * 2 * 3;

    private static readonly string[] s_targets = [Api.AttentionComputeMultiHeadPadded, Api.NaiveComputeMultiHeadPadded];

    internal static BadCallTable Table { get; } = Build();

    public static TheoryData<string> Names => Table.Names();

    [Theory]
    [MemberData(nameof(Names))]
    public void BadCall_IsRejectedBeforeAnythingIsWritten(string name) => Table.Run(name);

    private sealed record Fault(string Parameter, int[] KeyLengths, int[] QueryLengths, string[] Quotes, AttentionShape? Shape = null,
                                AttentionOptions Options = default, int Output = OutputCount, bool OutputIsKey = false);

    private static BadCallTable Build()
    {
        int[] ok = [6, 2, 0];
        var faults = new Dictionary<string, Fault>
        {
            ["key lengths empty"] = new("keyLengths", [], [], ["3", "0"]),
            ["key lengths one short"] = new("keyLengths", [6, 2], [], ["3", "2"]),
            ["key lengths one long"] = new("keyLengths", [6, 2, 0, 1], [], ["3", "4"]),
            ["query lengths one short"] = new("queryLengths", ok, [4, 4], ["3", "2"]),
            ["query lengths one long"] = new("queryLengths", ok, [4, 4, 4, 4], ["3", "4"]),
            ["key length -1"] = new("keyLengths", [6, -1, 0], [], ["-1", "6"]),
            ["key length one past the shape"] = new("keyLengths", [6, 7, 0], [], ["7", "6"]),
            ["key length int.MinValue"] = new("keyLengths", [int.MinValue, 1, 1], [], ["-2147483648"]),
            ["key length int.MaxValue"] = new("keyLengths", [1, 1, int.MaxValue], [], ["2147483647"]),
            ["query length -1"] = new("queryLengths", ok, [0, -1, 4], ["-1", "4"]),
            ["query length one past the shape"] = new("queryLengths", ok, [5, 0, 0], ["5", "4"]),
            ["query length int.MaxValue"] = new("queryLengths", ok, [4, 4, int.MaxValue], ["2147483647"]),
            ["lengths fine, shape batch -1"] = new("shape", ok, [], [], s_shape with { Batch = -1 }),
            ["lengths fine, output one short"] = new("output", ok, [], [$"{OutputCount}", $"{OutputCount - 1}"], Output: OutputCount - 1),
            ["lengths fine, output is the key"] = new("output", ok, [], [], OutputIsKey: true),
            ["bad lengths and a bad shape: the shape first"] = new("shape", [-1], [], [], s_shape with { Heads = 0 }),
        };

        foreach ((string name, AttentionOptions options) in SingleHeadAdversarialTests.BadOptions())
        {
            faults[$"options: {name}"] = new("options", ok, [], [], Options: options);
        }

        var table = new BadCallTable();
        foreach (string target in s_targets)
        {
            foreach ((string name, Fault fault) in faults)
            {
                table.Add($"{(target == Api.AttentionComputeMultiHeadPadded ? "Attention" : "NaiveAttention")}.ComputeMultiHeadPadded: {name}", () => Make(target, fault));
            }
        }

        return table;
    }

    private static BadCall Make(string target, Fault fault)
    {
        var shape = fault.Shape ?? s_shape;
        float[] q = BadCall.Sentinels(QueryCount), k = BadCall.Sentinels(KeyCount), v = BadCall.Sentinels(ValueCount);
        float[] o = fault.OutputIsKey ? [] : BadCall.Sentinels(fault.Output);
        return new BadCall
        {
            Target = target,
            Parameter = fault.Parameter,
            Watched = [q, k, v, o],
            Quotes = fault.Quotes,
            Call = () =>
            {
                Span<float> output = fault.OutputIsKey ? k : o; // the output's 72 floats are exactly the key's
                Run(target, q, k, v, output, shape, fault.KeyLengths, fault.QueryLengths, fault.Options);
            },
        };
    }

    private static void Run(string target, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> o, AttentionShape shape,
                            ReadOnlySpan<int> keyLengths, ReadOnlySpan<int> queryLengths, AttentionOptions options = default)
    {
        if (target == Api.AttentionComputeMultiHeadPadded) Attention.ComputeMultiHeadPadded(q, k, v, o, shape, keyLengths, queryLengths, options);
        else NaiveAttention.ComputeMultiHeadPadded(q, k, v, o, shape, keyLengths, queryLengths, options);
    }

    public static TheoryData<string> Targets() => new(s_targets);

    [Theory]
    [MemberData(nameof(Targets))]
    public void NoSequence_WithHugeOtherSizes_ReturnsAtOnce(string target) =>
        Run(target, [], [], [], [], new AttentionShape(0, 1 << 20, 1 << 20, 64, 64) { KvHeads = 8 }, [], []);

    [Theory]
    [MemberData(nameof(Targets))]
    public void EveryLengthZero_GivesZeros_AndReadsNoInput(string target)
    {
        // NaN everywhere in the inputs: nothing is real, so nothing may be read into the output.
        float[] q = new float[QueryCount], k = new float[KeyCount], v = new float[ValueCount], o = BadCall.Sentinels(OutputCount);
        Array.Fill(q, float.NaN);
        Array.Fill(k, float.NaN);
        Array.Fill(v, float.NaN);
        Run(target, q, k, v, o, s_shape, [0, 0, 0], [4, 0, 2], new AttentionOptions { IsCausal = true, Window = new AttentionWindow(1, 1) });
        Assert.All(o, x => Assert.Equal(0f, x));
    }
}
