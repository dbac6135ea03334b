using SelfAttention.Reference;
using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// Hostile calls to the multi-head weights entry points, fast and reference: weights of the wrong length, weights over
/// the output, over an input and under the log-sum-exp, and the checks of the overloads without weights (a short
/// output, a bad shape, a bad modifier); the padded overloads also with bad lengths (a key length past the shape, too
/// few query lengths). Shape: 2 sequences × 4 heads × 5 queries × 7 keys × 8 dims. The output and the weights keep
/// their sentinels.
/// </summary>
public class MultiHeadWeightsAdversarialTests
{
    internal static BadCallTable Table { get; } = Build();

    public static TheoryData<string> Names => Table.Names();

    [Theory]
    [MemberData(nameof(Names))]
    public void BadCall_IsRejectedBeforeAnythingIsWritten(string name) => Table.Run(name);

    private const int Batch = 2, Heads = 4, Nq = 5, Nk = 7, D = 8;

    private delegate void Entry(float[] q, Span<float> output, Span<float> weights, AttentionShape shape, AttentionModifiers modifiers, int[] keyLengths, int[] queryLengths);

    private static BadCallTable Build()
    {
        var table = new BadCallTable();
        var shape = new AttentionShape(Batch, Nq, Nk, Heads, D);
        float[] k = new float[Batch * Nk * Heads * D], v = new float[Batch * Nk * Heads * D];
        const int queryLength = Batch * Nq * Heads * D, outputLength = Batch * Nq * Heads * D, weightsLength = Batch * Heads * Nq * Nk;
        var entries = new (string Target, string Name, Entry Call)[]
        {
            (Api.AttentionComputeMultiHeadWeights, "Attention.ComputeMultiHead (weights)", (q, o, w, s, m, kl, ql) => Attention.ComputeMultiHead(q, k, v, o, w, s)),
            (Api.NaiveComputeMultiHeadWeights, "NaiveAttention.ComputeMultiHead (weights)", (q, o, w, s, m, kl, ql) => NaiveAttention.ComputeMultiHead(q, k, v, o, w, s)),
            (Api.AttentionComputeMultiHeadWeightsModified, "Attention.ComputeMultiHead (weights, modifiers)", (q, o, w, s, m, kl, ql) => Attention.ComputeMultiHead(q, k, v, o, w, s, m)),
            (Api.NaiveComputeMultiHeadWeightsModified, "NaiveAttention.ComputeMultiHead (weights, modifiers)", (q, o, w, s, m, kl, ql) => NaiveAttention.ComputeMultiHead(q, k, v, o, w, s, m)),
            (Api.AttentionComputeMultiHeadPaddedWeights, "Attention.ComputeMultiHeadPadded (weights, padded)",
             (q, o, w, s, m, kl, ql) => Attention.ComputeMultiHeadPadded(q, k, v, o, w, s, kl, ql)),
            (Api.NaiveComputeMultiHeadPaddedWeights, "NaiveAttention.ComputeMultiHeadPadded (weights, padded)",
             (q, o, w, s, m, kl, ql) => NaiveAttention.ComputeMultiHeadPadded(q, k, v, o, w, s, kl, ql)),
            (Api.AttentionComputeMultiHeadPaddedWeightsModified, "Attention.ComputeMultiHeadPadded (weights, padded, modifiers)",
             (q, o, w, s, m, kl, ql) => Attention.ComputeMultiHeadPadded(q, k, v, o, w, s, kl, ql, m)),
            (Api.NaiveComputeMultiHeadPaddedWeightsModified, "NaiveAttention.ComputeMultiHeadPadded (weights, padded, modifiers)",
             (q, o, w, s, m, kl, ql) => NaiveAttention.ComputeMultiHeadPadded(q, k, v, o, w, s, kl, ql, m)),
        };

        foreach (var (target, name, call) in entries)
        {
            bool takesModifiers = name.Contains("modifiers", StringComparison.Ordinal);
            bool padded = name.Contains("padded", StringComparison.Ordinal);

            // One buffer holds the output (its first outputLength − outputShort elements) and, at weightsAt, the weights.
            void Case(string what, string parameter, string[] quotes, int weightsCount, int weightsAt = outputLength, int outputShort = 0,
                      AttentionShape? badShape = null, bool lseInWeights = false, int[]? keyLengths = null, int[]? queryLengths = null)
            {
                table.Add($"{name}: {what}", () =>
                {
                    float[] q = BadCall.Sentinels(queryLength);
                    float[] buffer = BadCall.Sentinels(Math.Max(outputLength, weightsAt + weightsCount));
                    return new BadCall
                    {
                        Target = target, Parameter = parameter, Quotes = quotes, Watched = [buffer],
                        Call = () =>
                        {
                            Span<float> weights = buffer.AsSpan(weightsAt, weightsCount);
                            var modifiers = lseInWeights ? new AttentionModifiers { LogSumExp = weights[..(Batch * Heads * Nq)] } : default;
                            call(q, buffer.AsSpan(0, outputLength - outputShort), weights, badShape ?? shape, modifiers, keyLengths ?? [Nk, 3], queryLengths ?? []);
                        },
                    };
                });
            }

            Case("weights one short", "weights", [BadCall.Text(weightsLength), BadCall.Text(weightsLength - 1)], weightsLength - 1);
            Case("weights one long", "weights", [BadCall.Text(weightsLength), BadCall.Text(weightsLength + 1)], weightsLength + 1);
            Case("weights over the output", "weights", [], weightsLength, weightsAt: outputLength - 10);
            Case("an output one short", "output", [BadCall.Text(outputLength), BadCall.Text(outputLength - 1)], weightsLength, outputShort: 1);
            Case("no heads", "shape", ["0"], weightsLength, badShape: shape with { Heads = 0 });
            if (takesModifiers)
            {
                Case("the log-sum-exp inside the weights", "modifiers", [], weightsLength, lseInWeights: true);
            }

            if (padded)
            {
                Case("a key length one past the shape", "keyLengths", [BadCall.Text(Nk + 1), BadCall.Text(Nk)], weightsLength, keyLengths: [Nk + 1, 3]);
                Case("one query length for two sequences", "queryLengths", [BadCall.Text(Batch), "1"], weightsLength, queryLengths: [Nq]);
                Case("weights one short, and a bad key length", "weights", [BadCall.Text(weightsLength), BadCall.Text(weightsLength - 1)], weightsLength - 1, keyLengths: [-1, 3]);
            }
        }

        return table;
    }
}
