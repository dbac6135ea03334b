using CommunityToolkit.HighPerformance;
using SelfAttention.Reference;
using SelfAttention.Tests.Masks;
using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// Hostile calls to every entry point that takes a user-defined modifier (<see cref="IAttentionModifier{TSelf}"/>), fast
/// and reference: a modifier that changes scores under the sum normalisation (parameter <c>modifier</c>), and the
/// checks of the overloads without one, which still hold (a short output, a bad built-in modifier, a bad option),
/// for the attention entry points, the KV cache and <see cref="MultiHeadAttention"/> (whose cache must stay empty).
/// Shapes: 2 sequences × 4 heads × 5 queries × 7 keys × 8 dims (one head of 5 × 7; a cache of 7 tokens for
/// <see cref="KvCache"/>). The output keeps its sentinels.
/// </summary>
public class UserModifierAdversarialTests
{
    internal static BadCallTable Table { get; } = Build();

    public static TheoryData<string> Names => Table.Names();

    [Theory]
    [MemberData(nameof(Names))]
    public void BadCall_IsRejectedBeforeAnythingIsWritten(string name) => Table.Run(name);

    private const int Batch = 2, Heads = 4, Nq = 5, Nk = 7, D = 8;

    private delegate void Entry<TModifier>(float[] output, TModifier modifier, AttentionModifiers modifiers, AttentionOptions options)
        where TModifier : struct, IAttentionModifier<TModifier>;

    private static BadCallTable Build()
    {
        var table = new BadCallTable();
        AddEntries(table, new UserModifiers.Both(), "a score modifier");
        return table;
    }

    private static void AddEntries<TModifier>(BadCallTable table, TModifier modifier, string kind)
        where TModifier : struct, IAttentionModifier<TModifier>
    {
        var shape = new AttentionShape(Batch, Nq, Nk, Heads, D);
        float[] q = new float[Batch * Nq * Heads * D], k = new float[Batch * Nk * Heads * D], v = new float[Batch * Nk * Heads * D];
        float[] q1 = new float[Nq * D], k1 = new float[Nk * D], v1 = new float[Nk * D];
        int[] lengths = [7, 3], queryLengths = [5, 2];
        var cache = new KvCache(16, Heads, D, batch: Batch);
        cache.Append(k, v, Nk);
        var layer = MultiHeadAttention.CreateRandom(Heads * D, Heads, seed: 3);
        var layerCache = new KvCache(16, Heads, D, batch: Batch);
        int[] queryOffsets = [0, 5, 7], keyOffsets = [0, 7, 10];
        float[] pq = new float[7 * Heads * D], pk = new float[10 * Heads * D], pv = new float[10 * Heads * D];
        var entries = new (string Target, string Name, int Heads, int OutputLength, Entry<TModifier> Call)[]
        {
            (Api.AttentionComputeMultiHeadPackedUser, "Attention.ComputeMultiHeadPacked", Heads, pq.Length, (o, u, m, opt) => Attention.ComputeMultiHeadPacked(pq, pk, pv, o, shape, queryOffsets, keyOffsets, u, m, opt)),
            (Api.NaiveComputeMultiHeadPackedUser, "NaiveAttention.ComputeMultiHeadPacked", Heads, pq.Length, (o, u, m, opt) => NaiveAttention.ComputeMultiHeadPacked(pq, pk, pv, o, shape, queryOffsets, keyOffsets, u, m, opt)),
            (Api.AttentionComputeMultiHeadUser, "Attention.ComputeMultiHead", Heads, q.Length, (o, u, m, opt) => Attention.ComputeMultiHead(q, k, v, o, shape, u, m, opt)),
            (Api.NaiveComputeMultiHeadUser, "NaiveAttention.ComputeMultiHead", Heads, q.Length, (o, u, m, opt) => NaiveAttention.ComputeMultiHead(q, k, v, o, shape, u, m, opt)),
            (Api.AttentionComputeMultiHeadPaddedUser, "Attention.ComputeMultiHeadPadded", Heads, q.Length, (o, u, m, opt) => Attention.ComputeMultiHeadPadded(q, k, v, o, shape, lengths, queryLengths, u, m, opt)),
            (Api.NaiveComputeMultiHeadPaddedUser, "NaiveAttention.ComputeMultiHeadPadded", Heads, q.Length, (o, u, m, opt) => NaiveAttention.ComputeMultiHeadPadded(q, k, v, o, shape, lengths, queryLengths, u, m, opt)),
            (Api.AttentionComputeUser, "Attention.Compute", 1, q1.Length, (o, u, m, opt) => Attention.Compute(new ReadOnlySpan2D<float>(q1, Nq, D), new ReadOnlySpan2D<float>(k1, Nk, D), new ReadOnlySpan2D<float>(v1, Nk, D), new Span2D<float>(o, Nq, D), u, m, opt)),
            (Api.NaiveComputeUser, "NaiveAttention.Compute", 1, q1.Length, (o, u, m, opt) => NaiveAttention.Compute(new ReadOnlySpan2D<float>(q1, Nq, D), new ReadOnlySpan2D<float>(k1, Nk, D), new ReadOnlySpan2D<float>(v1, Nk, D), new Span2D<float>(o, Nq, D), u, m, opt)),
            (Api.AttentionComputeWeightsUser, "Attention.Compute (weights)", 1, q1.Length, (o, u, m, opt) => Attention.Compute(new ReadOnlySpan2D<float>(q1, Nq, D), new ReadOnlySpan2D<float>(k1, Nk, D), new ReadOnlySpan2D<float>(v1, Nk, D), new Span2D<float>(o, Nq, D), new Span2D<float>(new float[Nq * Nk], Nq, Nk), u, m, opt)),
            (Api.NaiveComputeWeightsUser, "NaiveAttention.Compute (weights)", 1, q1.Length, (o, u, m, opt) => NaiveAttention.Compute(new ReadOnlySpan2D<float>(q1, Nq, D), new ReadOnlySpan2D<float>(k1, Nk, D), new ReadOnlySpan2D<float>(v1, Nk, D), new Span2D<float>(o, Nq, D), new Span2D<float>(new float[Nq * Nk], Nq, Nk), u, m, opt)),
            (Api.KvCacheAttendUser, "KvCache.Attend", Heads, Batch * Nq * Heads * D, (o, u, m, opt) => cache.Attend(q, o, Heads, Nq, u, m, opt)),
            (Api.LayerSelfUser, "MultiHeadAttention.Forward", Heads, Batch * Nq * Heads * D, (o, u, m, opt) => layer.Forward(q.AsSpan(0, Batch * Nq * Heads * D), o, Batch, Nq, u, m, opt)),
            (Api.LayerCachedUser, "MultiHeadAttention.Forward (cache)", Heads, Batch * Nq * Heads * D, (o, u, m, opt) => layer.Forward(q.AsSpan(0, Batch * Nq * Heads * D), o, Batch, Nq, layerCache, u, m, opt)),
        };

        var sum = new AttentionOptions { Normalization = AttentionNormalization.Sum };
        foreach (var (target, name, heads, outputLength, call) in entries)
        {
            void Case(string what, string parameter, string[] quotes, int length, AttentionModifiers modifiers = default, AttentionOptions options = default)
            {
                var alibi = modifiers.AlibiSlopes.ToArray();
                table.Add($"{name}: {what}", () =>
                {
                    float[] output = BadCall.Sentinels(length);
                    return new BadCall
                    {
                        Target = target, Parameter = parameter, Quotes = quotes, Watched = [output],
                        Call = () => call(output, modifier, new AttentionModifiers { AlibiSlopes = alibi }, options),
                    };
                });
            }

            Case($"{kind} with the sum normalisation", "modifier", ["Softmax", "Sum"], outputLength, options: sum);
            if (outputLength != q1.Length)
            {
                // The single-head overloads take 2-D views, whose sizes a short buffer cannot even make.
                Case("an output one short", "output", [BadCall.Text(outputLength), BadCall.Text(outputLength - 1)], outputLength - 1);
            }

            Case("ALiBi slopes one long", "modifiers", [BadCall.Text(heads), BadCall.Text(heads + 1)], outputLength, new AttentionModifiers { AlibiSlopes = new float[heads + 1] });
            Case("a negative scale", "options", [], outputLength, options: new AttentionOptions { Scale = -1 });
        }
    }
}
