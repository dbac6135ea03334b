using SelfAttention.Reference;
using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// Hostile calls to the multi-head weights entry points, fast and reference: weights of the wrong length, weights over
/// the output, over an input and under the log-sum-exp, and the checks of the overloads without weights (a short
/// output, a bad shape, a bad modifier); the padded overloads also with bad lengths (a key length past the shape, too
/// few query lengths); the packed overloads also with weights of the padded shape's length and a sequence longer than
/// the shape (offsets are checked before the weights, since the buffers' lengths come from them). Shape: 2 sequences ×
/// 4 heads × 5 queries × 7 keys × 8 dims. The output and the weights keep their sentinels.
/// </summary>
public class MultiHeadWeightsAdversarialTests
{
    // Declared before the table, which is built from them in the same static initialiser.
    private static readonly Layout s_padded = new(Batch * Nq, Batch * Nk, Batch * Heads * Nq * Nk, [Nk, 3], []);
    private static readonly Layout s_packed = new(8, 10, Heads * (5 * 7 + 3 * 3), [0, 7, 10], [0, 5, 8]);

    internal static BadCallTable Table { get; } = Build();

    public static TheoryData<string> Names => Table.Names();

    [Theory]
    [MemberData(nameof(Names))]
    public void BadCall_IsRejectedBeforeAnythingIsWritten(string name) => Table.Run(name);

    private const int Batch = 2, Heads = 4, Nq = 5, Nk = 7, D = 8;

    private delegate void Entry(float[] q, Span<float> output, Span<float> weights, AttentionShape shape, AttentionModifiers modifiers, int[] keys, int[] queries);

    // The buffers of one kind of call: padded (and plain) calls take [Batch, Nq, ...] queries with key lengths [Nk, 3];
    // packed calls sequences of 5 and 3 query rows over 7 and 3 keys, as offsets, so Heads·(5·7 + 3·3) weights.
    private sealed record Layout(int QueryRows, int KeyRows, int WeightsLength, int[] Keys, int[] Queries);

    private static BadCallTable Build()
    {
        var table = new BadCallTable();
        var shape = new AttentionShape(Batch, Nq, Nk, Heads, D);
        float[] k = new float[Batch * Nk * Heads * D], v = new float[Batch * Nk * Heads * D];
        float[] packedK = new float[s_packed.KeyRows * Heads * D], packedV = new float[s_packed.KeyRows * Heads * D];
        var entries = new (string Target, string Name, Layout Layout, Entry Call)[]
        {
            (Api.AttentionComputeMultiHeadWeights, "Attention.ComputeMultiHead (weights)", s_padded, (q, o, w, s, m, kl, ql) => Attention.ComputeMultiHead(q, k, v, o, w, s)),
            (Api.NaiveComputeMultiHeadWeights, "NaiveAttention.ComputeMultiHead (weights)", s_padded, (q, o, w, s, m, kl, ql) => NaiveAttention.ComputeMultiHead(q, k, v, o, w, s)),
            (Api.AttentionComputeMultiHeadWeightsModified, "Attention.ComputeMultiHead (weights, modifiers)", s_padded, (q, o, w, s, m, kl, ql) => Attention.ComputeMultiHead(q, k, v, o, w, s, m)),
            (Api.NaiveComputeMultiHeadWeightsModified, "NaiveAttention.ComputeMultiHead (weights, modifiers)", s_padded, (q, o, w, s, m, kl, ql) => NaiveAttention.ComputeMultiHead(q, k, v, o, w, s, m)),
            (Api.AttentionComputeMultiHeadPaddedWeights, "Attention.ComputeMultiHeadPadded (weights, padded)", s_padded,
             (q, o, w, s, m, kl, ql) => Attention.ComputeMultiHeadPadded(q, k, v, o, w, s, kl, ql)),
            (Api.NaiveComputeMultiHeadPaddedWeights, "NaiveAttention.ComputeMultiHeadPadded (weights, padded)", s_padded,
             (q, o, w, s, m, kl, ql) => NaiveAttention.ComputeMultiHeadPadded(q, k, v, o, w, s, kl, ql)),
            (Api.AttentionComputeMultiHeadPaddedWeightsModified, "Attention.ComputeMultiHeadPadded (weights, padded, modifiers)", s_padded,
             (q, o, w, s, m, kl, ql) => Attention.ComputeMultiHeadPadded(q, k, v, o, w, s, kl, ql, m)),
            (Api.NaiveComputeMultiHeadPaddedWeightsModified, "NaiveAttention.ComputeMultiHeadPadded (weights, padded, modifiers)", s_padded,
             (q, o, w, s, m, kl, ql) => NaiveAttention.ComputeMultiHeadPadded(q, k, v, o, w, s, kl, ql, m)),
            (Api.AttentionComputeMultiHeadPackedWeights, "Attention.ComputeMultiHeadPacked (weights, packed)", s_packed,
             (q, o, w, s, m, ko, qo) => Attention.ComputeMultiHeadPacked(q, packedK, packedV, o, w, s, qo, ko)),
            (Api.NaiveComputeMultiHeadPackedWeights, "NaiveAttention.ComputeMultiHeadPacked (weights, packed)", s_packed,
             (q, o, w, s, m, ko, qo) => NaiveAttention.ComputeMultiHeadPacked(q, packedK, packedV, o, w, s, qo, ko)),
            (Api.AttentionComputeMultiHeadPackedWeightsModified, "Attention.ComputeMultiHeadPacked (weights, packed, modifiers)", s_packed,
             (q, o, w, s, m, ko, qo) => Attention.ComputeMultiHeadPacked(q, packedK, packedV, o, w, s, qo, ko, m)),
            (Api.NaiveComputeMultiHeadPackedWeightsModified, "NaiveAttention.ComputeMultiHeadPacked (weights, packed, modifiers)", s_packed,
             (q, o, w, s, m, ko, qo) => NaiveAttention.ComputeMultiHeadPacked(q, packedK, packedV, o, w, s, qo, ko, m)),
        };

        foreach (var (target, name, layout, call) in entries)
        {
            int queryLength = layout.QueryRows * Heads * D, outputLength = layout.QueryRows * Heads * D, weightsLength = layout.WeightsLength;

            // One buffer holds the output (its first outputLength − outputShort elements) and, at weightsAt, the weights.
            void Case(string what, string parameter, string[] quotes, int weightsCount, int? weightsAt = null, int outputShort = 0,
                      AttentionShape? badShape = null, bool lseInWeights = false, int[]? keys = null, int[]? queries = null)
            {
                int at = weightsAt ?? outputLength;
                table.Add($"{name}: {what}", () =>
                {
                    float[] q = BadCall.Sentinels(queryLength);
                    float[] buffer = BadCall.Sentinels(Math.Max(outputLength, at + weightsCount));
                    return new BadCall
                    {
                        Target = target, Parameter = parameter, Quotes = quotes, Watched = [buffer],
                        Call = () =>
                        {
                            Span<float> weights = buffer.AsSpan(at, weightsCount);
                            var modifiers = lseInWeights ? new AttentionModifiers { LogSumExp = weights[..(Heads * layout.QueryRows)] } : default;
                            call(q, buffer.AsSpan(0, outputLength - outputShort), weights, badShape ?? shape, modifiers, keys ?? layout.Keys, queries ?? layout.Queries);
                        },
                    };
                });
            }

            Case("weights one short", "weights", [BadCall.Text(weightsLength), BadCall.Text(weightsLength - 1)], weightsLength - 1);
            Case("weights one long", "weights", [BadCall.Text(weightsLength), BadCall.Text(weightsLength + 1)], weightsLength + 1);
            Case("weights over the output", "weights", [], weightsLength, weightsAt: outputLength - 10);
            Case("an output one short", "output", [BadCall.Text(outputLength), BadCall.Text(outputLength - 1)], weightsLength, outputShort: 1);
            Case("no heads", "shape", ["0"], weightsLength, badShape: shape with { Heads = 0 });
            if (name.Contains("modifiers", StringComparison.Ordinal))
            {
                Case("the log-sum-exp inside the weights", "modifiers", [], weightsLength, lseInWeights: true);
            }

            if (name.Contains("padded", StringComparison.Ordinal))
            {
                Case("a key length one past the shape", "keyLengths", [BadCall.Text(Nk + 1), BadCall.Text(Nk)], weightsLength, keys: [Nk + 1, 3]);
                Case("one query length for two sequences", "queryLengths", [BadCall.Text(Batch), "1"], weightsLength, queries: [Nq]);
                Case("weights one short, and a bad key length", "weights", [BadCall.Text(weightsLength), BadCall.Text(weightsLength - 1)], weightsLength - 1, keys: [-1, 3]);
            }

            if (name.Contains("packed", StringComparison.Ordinal))
            {
                int paddedLength = s_padded.WeightsLength;
                Case("weights of the padded shape", "weights", [BadCall.Text(weightsLength), BadCall.Text(paddedLength)], paddedLength);
                Case("a sequence of 8 keys past the shape's 7, and the weights short", "keyOffsets", ["8"], weightsLength - 1, keys: [0, 8, 10]);
            }
        }

        return table;
    }
}
