using CommunityToolkit.HighPerformance;
using SelfAttention.Reference;
using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// Hostile <see cref="AttentionModifiers"/> at every entry point that takes them, fast and reference (which share the
/// validation): per-head arrays of the wrong length (an empty one means none) or non-finite, a log-sum-exp output that is short or overlaps the
/// output, a dense mask too short for its strides, both masks at once, and modifiers that need softmax under the sum
/// normalisation. Shapes: 2 sequences × 4 heads × 5 queries × 7 keys × 8 dims (one head of 5 × 7 for the single-head
/// overloads; packed: sequences of 5 and 2 queries over 7 and 3 keys, a dense mask indexed over the longest lengths). The output and the log-sum-exp keep their sentinels.
/// </summary>
public class ModifierAdversarialTests
{
    internal static BadCallTable Table { get; } = Build();

    public static TheoryData<string> Names => Table.Names();

    [Theory]
    [MemberData(nameof(Names))]
    public void BadCall_IsRejectedBeforeAnythingIsWritten(string name) => Table.Run(name);

    private const int Batch = 2, Heads = 4, Nq = 5, Nk = 7, D = 8;

    private delegate void Entry(float[] output, float[] lse, AttentionModifiers modifiers, AttentionOptions options);

    private static BadCallTable Build()
    {
        var table = new BadCallTable();
        var shape = new AttentionShape(Batch, Nq, Nk, Heads, D);
        float[] q = new float[Batch * Nq * Heads * D], k = new float[Batch * Nk * Heads * D], v = new float[Batch * Nk * Heads * D];
        float[] q1 = new float[Nq * D], k1 = new float[Nk * D], v1 = new float[Nk * D];
        int[] lengths = [7, 3], queryLengths = [5, 2];

        // The same two sequences packed: 5 + 2 query rows, 7 + 3 key rows; the log-sum-exp is [Heads, 7].
        int[] queryOffsets = [0, 5, 7], keyOffsets = [0, 7, 10];
        float[] pq = new float[7 * Heads * D], pk = new float[10 * Heads * D], pv = new float[10 * Heads * D];
        var entries = new (string Target, string Name, int Heads, int LseLength, int OutputLength, Entry Call)[]
        {
            (Api.AttentionComputeMultiHeadPackedModified, "Attention.ComputeMultiHeadPacked", Heads, Heads * 7, pq.Length, (o, l, m, opt) => Attention.ComputeMultiHeadPacked(pq, pk, pv, o, shape, queryOffsets, keyOffsets, m, opt)),
            (Api.NaiveComputeMultiHeadPackedModified, "NaiveAttention.ComputeMultiHeadPacked", Heads, Heads * 7, pq.Length, (o, l, m, opt) => NaiveAttention.ComputeMultiHeadPacked(pq, pk, pv, o, shape, queryOffsets, keyOffsets, m, opt)),
            (Api.AttentionComputeMultiHeadModified, "Attention.ComputeMultiHead", Heads, Batch * Heads * Nq, q.Length, (o, l, m, opt) => Attention.ComputeMultiHead(q, k, v, o, shape, m, opt)),
            (Api.NaiveComputeMultiHeadModified, "NaiveAttention.ComputeMultiHead", Heads, Batch * Heads * Nq, q.Length, (o, l, m, opt) => NaiveAttention.ComputeMultiHead(q, k, v, o, shape, m, opt)),
            (Api.AttentionComputeMultiHeadPaddedModified, "Attention.ComputeMultiHeadPadded", Heads, Batch * Heads * Nq, q.Length, (o, l, m, opt) => Attention.ComputeMultiHeadPadded(q, k, v, o, shape, lengths, queryLengths, m, opt)),
            (Api.NaiveComputeMultiHeadPaddedModified, "NaiveAttention.ComputeMultiHeadPadded", Heads, Batch * Heads * Nq, q.Length, (o, l, m, opt) => NaiveAttention.ComputeMultiHeadPadded(q, k, v, o, shape, lengths, queryLengths, m, opt)),
            (Api.AttentionComputeModified, "Attention.Compute", 1, Nq, q1.Length, (o, l, m, opt) => Attention.Compute(new ReadOnlySpan2D<float>(q1, Nq, D), new ReadOnlySpan2D<float>(k1, Nk, D), new ReadOnlySpan2D<float>(v1, Nk, D), new Span2D<float>(o, Nq, D), m, opt)),
            (Api.NaiveComputeModified, "NaiveAttention.Compute", 1, Nq, q1.Length, (o, l, m, opt) => NaiveAttention.Compute(new ReadOnlySpan2D<float>(q1, Nq, D), new ReadOnlySpan2D<float>(k1, Nk, D), new ReadOnlySpan2D<float>(v1, Nk, D), new Span2D<float>(o, Nq, D), m, opt)),
            (Api.AttentionComputeWeightsModified, "Attention.Compute (weights)", 1, Nq, q1.Length, (o, l, m, opt) => Attention.Compute(new ReadOnlySpan2D<float>(q1, Nq, D), new ReadOnlySpan2D<float>(k1, Nk, D), new ReadOnlySpan2D<float>(v1, Nk, D), new Span2D<float>(o, Nq, D), new Span2D<float>(new float[Nq * Nk], Nq, Nk), m, opt)),
            (Api.NaiveComputeWeightsModified, "NaiveAttention.Compute (weights)", 1, Nq, q1.Length, (o, l, m, opt) => NaiveAttention.Compute(new ReadOnlySpan2D<float>(q1, Nq, D), new ReadOnlySpan2D<float>(k1, Nk, D), new ReadOnlySpan2D<float>(v1, Nk, D), new Span2D<float>(o, Nq, D), new Span2D<float>(new float[Nq * Nk], Nq, Nk), m, opt)),
        };

        var sum = new AttentionOptions { Normalization = AttentionNormalization.Sum };
        foreach (var (target, name, heads, lseLength, outputLength, call) in entries)
        {
            void Case(string what, string[] quotes, Func<float[], float[], AttentionModifiers> modifiers, AttentionOptions options = default, string parameter = "modifiers")
            {
                table.Add($"{name}: {what}", () =>
                {
                    float[] output = BadCall.Sentinels(outputLength), lse = BadCall.Sentinels(lseLength);
                    return new BadCall { Target = target, Parameter = parameter, Quotes = quotes, Watched = [output, lse], Call = () => call(output, lse, modifiers(output, lse), options) };
                });
            }

            string h = BadCall.Text(heads);
            Case("ALiBi slopes one long", [h, BadCall.Text(heads + 1)], (o, l) => new AttentionModifiers { AlibiSlopes = new float[heads + 1] });
            Case("a NaN sink", ["NaN"], (o, l) => new AttentionModifiers { Sinks = Enumerable.Repeat(float.NaN, heads).ToArray() });
            Case("log-sum-exp one short", [BadCall.Text(lseLength), BadCall.Text(lseLength - 1)], (o, l) => new AttentionModifiers { LogSumExp = l.AsSpan(1) });
            Case("log-sum-exp over the output", [], (o, l) => new AttentionModifiers { LogSumExp = o.AsSpan(0, lseLength) });
            Case("a boolean mask one short", [], (o, l) => new AttentionModifiers { BooleanMask = new bool[Nq * Nk - 1] });
            Case("both masks", [], (o, l) => new AttentionModifiers { BooleanMask = new bool[Nq * Nk], AdditiveMask = new float[Nq * Nk] });
            Case("a negative stride", ["-1"], (o, l) => new AttentionModifiers { AdditiveMask = new float[Nq * Nk], MaskStrides = new AttentionMaskStrides(0, 0, -1, 1) });
            Case("strides past the mask", [], (o, l) => new AttentionModifiers { AdditiveMask = new float[Nq * Nk], MaskStrides = new AttentionMaskStrides(0, 0, Nk + 1, 1) });
            Case("sinks with the sum normalisation", [], (o, l) => new AttentionModifiers { Sinks = new float[heads] }, sum);
            Case("a softcap of 0", [], (o, l) => default, new AttentionOptions { SoftCap = 0 }, "options");
        }

        return table;
    }
}
