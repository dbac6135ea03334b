using SelfAttention.Reference;
using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// Hostile <see cref="AttentionModifiers"/> at the layer-level entry points that take them: <see cref="KvCache"/>'s
/// Attend (a cache of 2 sequences × 2 kv heads × 8 dims holding 6 and 3 tokens, 4 query heads, 3 query rows) and
/// <see cref="MultiHeadAttention"/>'s Forward overloads, self, cross (5 keys) and cached, and the reference layer (a layer
/// of E = 16, 4 heads over 2 kv heads, 2 sequences of 3 query tokens). The output, the log-sum-exp and the cache's
/// contents keep their values.
/// </summary>
public class LayerModifierAdversarialTests
{
    internal static BadCallTable Table { get; } = Build();

    public static TheoryData<string> Names => Table.Names();

    [Theory]
    [MemberData(nameof(Names))]
    public void BadCall_IsRejectedBeforeAnythingIsWritten(string name) => Table.Run(name);

    private const int Batch = 2, Heads = 4, KvHeads = 2, D = 8, Nq = 3;

    private static BadCallTable Build()
    {
        var table = new BadCallTable();
        AddCache(table);
        AddLayer(table);
        return table;
    }

    private static void AddCache(BadCallTable table)
    {
        var cache = new KvCache(16, KvHeads, D, batch: Batch);
        cache.Append(0, new float[6 * KvHeads * D], new float[6 * KvHeads * D], 6);
        cache.Append(1, new float[3 * KvHeads * D], new float[3 * KvHeads * D], 3);
        float[] query = new float[Batch * Nq * Heads * D];
        int outputLength = Batch * Nq * Heads * D, lseLength = Batch * Heads * Nq, nk = cache.Length;
        var sum = new AttentionOptions { Normalization = AttentionNormalization.Sum };

        void Case(string what, string[] quotes, Func<float[], float[], AttentionModifiers> modifiers, AttentionOptions options = default, string parameter = "modifiers")
        {
            table.Add($"KvCache.Attend (modifiers): {what}", () =>
            {
                float[] output = BadCall.Sentinels(outputLength), lse = BadCall.Sentinels(lseLength);
                return new BadCall
                {
                    Target = Api.KvCacheAttendModified, Parameter = parameter, Quotes = quotes, Watched = [output, lse],
                    Call = () => cache.Attend(query, output, Heads, Nq, modifiers(output, lse), options),
                    AssertUnchanged = () => Assert.Equal((6, 3), (cache.SequenceLength(0), cache.SequenceLength(1))),
                };
            });
        }

        Case("ALiBi slopes per kv head", [BadCall.Text(Heads), BadCall.Text(KvHeads)], (o, l) => new AttentionModifiers { AlibiSlopes = new float[KvHeads] });
        Case("an infinite slope", ["Infinity"], (o, l) => new AttentionModifiers { AlibiSlopes = [0, 0, float.PositiveInfinity, 0] });
        Case("a NaN sink", ["NaN"], (o, l) => new AttentionModifiers { Sinks = [0, float.NaN, 0, 0] });
        Case("log-sum-exp one short", [BadCall.Text(lseLength), BadCall.Text(lseLength - 1)], (o, l) => new AttentionModifiers { LogSumExp = l.AsSpan(1) });
        Case("log-sum-exp over the output", [], (o, l) => new AttentionModifiers { LogSumExp = o.AsSpan(0, lseLength) });
        Case("log-sum-exp over the query", [], (o, l) => new AttentionModifiers { LogSumExp = query.AsSpan(0, lseLength) });
        Case("a boolean mask one short of [Nq, Length]", [], (o, l) => new AttentionModifiers { BooleanMask = new bool[Nq * nk - 1] });
        Case("both masks", [], (o, l) => new AttentionModifiers { BooleanMask = new bool[Nq * nk], AdditiveMask = new float[Nq * nk] });
        Case("strides past the mask", [], (o, l) => new AttentionModifiers { AdditiveMask = new float[Nq * nk], MaskStrides = new AttentionMaskStrides(0, 0, nk + 1, 1) });
        Case("a negative stride", ["-1"], (o, l) => new AttentionModifiers { AdditiveMask = new float[Nq * nk], MaskStrides = new AttentionMaskStrides(0, -1, nk, 1) });
        Case("sinks with the sum normalisation", [], (o, l) => new AttentionModifiers { Sinks = new float[Heads] }, sum);
        Case("a NaN softcap", [], (o, l) => new AttentionModifiers { Sinks = new float[Heads] }, new AttentionOptions { SoftCap = float.NaN }, "options");
    }

    private static void AddLayer(BadCallTable table)
    {
        const int e = 16, nk = 5;
        var layer = MultiHeadAttention.CreateRandom(e, Heads, seed: 3, KvHeads);
        float[] input = new float[Batch * Nq * e], keyValue = new float[Batch * nk * e];
        int outputLength = Batch * Nq * e, lseLength = Batch * Heads * Nq;
        var entries = new (string Target, string Name, int KeyLength, Action<float[], AttentionModifiers, AttentionOptions, KvCache> Call)[]
        {
            (Api.LayerSelfModified, "MultiHeadAttention.Forward (self, modifiers)", Nq, (o, m, opt, c) => layer.Forward(input, o, Batch, Nq, m, opt)),
            (Api.LayerCrossModified, "MultiHeadAttention.Forward (cross, modifiers)", nk, (o, m, opt, c) => layer.Forward(input, keyValue, o, Batch, Nq, nk, m, opt)),
            (Api.LayerCachedModified, "MultiHeadAttention.Forward (cached, modifiers)", 2 + Nq, (o, m, opt, c) => layer.Forward(input, o, Batch, Nq, c, m, opt)),
            (Api.NaiveLayerModified, "NaiveMultiHeadAttention.Forward (modifiers)", nk, (o, m, opt, c) => NaiveMultiHeadAttention.Forward(layer, input, keyValue, o, Batch, Nq, nk, m, opt)),
        };

        foreach (var (target, name, keyLength, call) in entries)
        {
            void Case(string what, string[] quotes, Func<float[], float[], AttentionModifiers> modifiers, AttentionOptions options = default, string parameter = "modifiers")
            {
                table.Add($"{name}: {what}", () =>
                {
                    float[] output = BadCall.Sentinels(outputLength), lse = BadCall.Sentinels(lseLength);
                    var cache = new KvCache(16, KvHeads, e / Heads, batch: Batch);
                    cache.Append(new float[Batch * 2 * KvHeads * (e / Heads)], new float[Batch * 2 * KvHeads * (e / Heads)], 2);
                    return new BadCall
                    {
                        Target = target, Parameter = parameter, Quotes = quotes, Watched = [output, lse],
                        Call = () => call(output, modifiers(output, lse), options, cache),
                        AssertUnchanged = () => Assert.Equal(2, cache.Length),
                    };
                });
            }

            Case("ALiBi slopes per kv head", [BadCall.Text(Heads), BadCall.Text(KvHeads)], (o, l) => new AttentionModifiers { AlibiSlopes = new float[KvHeads] });
            Case("a NaN sink", ["NaN"], (o, l) => new AttentionModifiers { Sinks = [0, 0, 0, float.NaN] });
            Case("log-sum-exp one long", [BadCall.Text(lseLength), BadCall.Text(lseLength + 1)], (o, l) => new AttentionModifiers { LogSumExp = new float[lseLength + 1] });
            Case("log-sum-exp over the output", [], (o, l) => new AttentionModifiers { LogSumExp = o.AsSpan(0, lseLength) });
            Case("log-sum-exp over the input", [], (o, l) => new AttentionModifiers { LogSumExp = input.AsSpan(0, lseLength) });
            Case("an additive mask one short", [], (o, l) => new AttentionModifiers { AdditiveMask = new float[Nq * keyLength - 1] });
            Case("both masks", [], (o, l) => new AttentionModifiers { BooleanMask = new bool[Nq * keyLength], AdditiveMask = new float[Nq * keyLength] });
            Case("per-head strides over a shared mask", [], (o, l) => new AttentionModifiers { BooleanMask = new bool[Nq * keyLength], MaskStrides = AttentionMaskStrides.Broadcast(false, Heads, Nq, keyLength) });
            Case("log-sum-exp with the sum normalisation", [], (o, l) => new AttentionModifiers { LogSumExp = l }, new AttentionOptions { Normalization = AttentionNormalization.Sum });
        }
    }
}
