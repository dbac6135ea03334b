using SelfAttention.Reference;
using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// Hostile calls to <see cref="MultiHeadAttention"/> (constructor, <see cref="MultiHeadAttention.CreateRandom"/>, the
/// four <c>Forward</c> overloads) and to <see cref="NaiveMultiHeadAttention"/>, which validates the same way: each
/// exception names the caller's own parameter (<c>input</c> and <c>sequenceLength</c> in the self-attention overloads),
/// nothing is written and a cache is left as it was; then zero keys (rows of b_o), zero rows and one row.
/// </summary>
public class LayerAdversarialTests
{
    // The valid base: E = 8, H = 2, KvH = 1, d = dv = 4, biases; batch 2, queryLength 3, keyLength 5.
    private const int E = 8, B = 2, Nq = 3, Nk = 5;
    private const int QueryLength = B * Nq * E, KeyValueLength = B * Nk * E, PerHeadWeights = B * 2 * Nq * Nk, AveragedWeights = B * Nq * Nk;
    private const string ArrayLimit = "2147483591";

    private static MultiHeadAttention Layer() => MultiHeadAttention.CreateRandom(E, 2, seed: 3, kvHeads: 1);

    internal static BadCallTable Table { get; } = Build();

    public static TheoryData<string> Names => Table.Names();

    [Theory]
    [MemberData(nameof(Names))]
    public void BadCall_IsRejectedBeforeAnythingIsWritten(string name) => Table.Run(name);

    private static BadCallTable Build()
    {
        var table = new BadCallTable();
        AddConstructorCases(table);
        AddSelfCases(table);
        AddCachedCases(table);
        foreach (string target in new[] { Api.LayerCross, Api.NaiveLayer, Api.LayerWeights, Api.NaiveLayerWeights })
        {
            AddCrossCases(table, target);
        }

        foreach (string target in new[] { Api.LayerWeights, Api.NaiveLayerWeights })
        {
            AddWeightsCases(table, target);
        }

        return table;
    }

    private static void AddConstructorCases(BadCallTable table)
    {
        var faults = new (string Name, string Parameter, int ModelDim, int Heads, int KvHeads, int HeadDim, int ValueDim, string[] Quotes)[]
        {
            ("modelDim 0", "modelDim", 0, 2, 0, 0, 0, ["1", "0"]),
            ("modelDim int.MinValue", "modelDim", int.MinValue, 2, 0, 0, 0, ["-2147483648"]),
            ("heads 0", "heads", 8, 0, 0, 0, 0, ["1", "0"]),
            ("heads -3", "heads", 8, -3, 0, 0, 0, ["-3"]),
            ("kvHeads -1", "kvHeads", 8, 2, -1, 0, 0, ["-1"]),
            ("kvHeads 3 for 4 heads", "kvHeads", 8, 4, 3, 0, 0, ["4", "3"]),
            ("kvHeads 8 for 4 heads", "kvHeads", 8, 4, 8, 0, 0, ["4", "8"]),
            ("headDim -1", "headDim", 8, 2, 0, -1, 0, ["-1"]),
            ("valueDim -1", "valueDim", 8, 2, 0, 0, -1, ["-1"]),
            ("modelDim 10 does not divide by 3 heads", "headDim", 10, 3, 0, 0, 0, ["3", "10"]),
            ("modelDim·heads·headDim = 2^48", "headDim", 1 << 16, 1 << 16, 0, 1 << 16, 0, [ArrayLimit, "281474976710656"]),
            ("heads·headDim = 2^32 with modelDim 1", "headDim", 1, 4, 0, 1 << 30, 0, [ArrayLimit, "4294967296"]),
            ("modelDim² = 2^32 (headDim derived)", "modelDim", 1 << 16, 1, 0, 0, 0, [ArrayLimit, "4294967296"]),
            ("valueDim 2^30 with 4 heads", "valueDim", 8, 4, 0, 0, 1 << 30, [ArrayLimit]),
            ("all int.MaxValue", "headDim", int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue, [ArrayLimit]),
        };
        foreach (var f in faults)
        {
            table.Add($"MultiHeadAttention(): {f.Name}", () => new BadCall
            {
                Target = Api.LayerCtor, Parameter = f.Parameter, Quotes = f.Quotes,
                Call = () => _ = new MultiHeadAttention(f.ModelDim, f.Heads, f.KvHeads, f.HeadDim, f.ValueDim),
            });
            table.Add($"MultiHeadAttention.CreateRandom: {f.Name}", () => new BadCall
            {
                Target = Api.LayerCreateRandom, Parameter = f.Parameter, Quotes = f.Quotes,
                Call = () => MultiHeadAttention.CreateRandom(f.ModelDim, f.Heads, 1, f.KvHeads, f.HeadDim, f.ValueDim),
            });
        }
    }

    private static IEnumerable<(string Name, AttentionOptions Options)> SomeBadOptions() =>
        SingleHeadAdversarialTests.BadOptions().Where(o => o.Name is "scale NaN" or "scale 0" or "scale -1" or "normalization 2" or "kernel -1" or "parallelism -2");

    private static void AddSelfCases(BadCallTable table)
    {
        void Add(string name, string parameter, int inputLength, int outputLength, int batch, int sequenceLength, AttentionOptions options = default, bool alias = false, string[]? quotes = null) =>
            table.Add($"Forward(self): {name}", () =>
            {
                var layer = Layer();
                float[] input = BadCall.Sentinels(Math.Max(inputLength, alias ? outputLength : 0)), output = BadCall.Sentinels(outputLength);
                return new BadCall
                {
                    Target = Api.LayerSelf, Parameter = parameter, Quotes = quotes ?? [], Watched = [input, output],
                    Call = () => layer.Forward(input.AsSpan(0, inputLength), alias ? input.AsSpan(0, outputLength) : output, batch, sequenceLength, options),
                };
            });

        Add("batch -1", "batch", QueryLength, QueryLength, -1, Nq, quotes: ["-1"]);
        Add("sequenceLength -1", "sequenceLength", QueryLength, QueryLength, B, -1, quotes: ["-1"]);
        Add("input one short (named input, not query)", "input", QueryLength - 1, QueryLength, B, Nq, quotes: ["48", "47"]);
        Add("input of 1 where 2^26 is claimed", "input", 1, QueryLength, 1 << 13, 1 << 10, quotes: ["67108864", "1"]);
        Add("output one long", "output", QueryLength, QueryLength + 1, B, Nq, quotes: ["48", "49"]);
        Add("output is the input", "output", QueryLength, QueryLength, B, Nq, alias: true);
        Add("batch·sequenceLength·ModelDim = 2^31", "sequenceLength", 1, 1, 1 << 12, 1 << 16, quotes: ["2147483647", "2147483648"]);
        foreach (var (name, options) in SomeBadOptions())
        {
            Add($"options: {name}", "options", QueryLength, QueryLength, B, Nq, options);
        }

        // Inputs of a valid length whose projection would not fit one array: E = 1, H·d = 4096, 2^20 rows.
        table.Add("Forward(self): projected queries 2^32 from an input of 2^20", () =>
        {
            var layer = new MultiHeadAttention(1, 1, headDim: 1 << 12);
            float[] input = new float[1 << 20], output = BadCall.Sentinels(1 << 20);
            return new BadCall
            {
                Target = Api.LayerSelf, Parameter = "sequenceLength", Quotes = [ArrayLimit, "4294967296"], Watched = [output],
                Call = () => layer.Forward(input, output, 1 << 10, 1 << 10),
            };
        });
    }

    private static void AddCachedCases(BadCallTable table)
    {
        void Add(string name, string parameter, Func<KvCache> makeCache, int inputLength, int outputLength, int batch, int sequenceLength,
                 AttentionOptions options = default, bool nullCache = false, string[]? quotes = null) =>
            table.Add($"Forward(cache): {name}", () =>
            {
                var layer = Layer();
                KvCache cache = makeCache();
                cache.Append(new float[cache.Batch * 2 * cache.KvHeads * cache.HeadDim], new float[cache.Batch * 2 * cache.KvHeads * cache.ValueDim], 2);
                float[] input = BadCall.Sentinels(inputLength), output = BadCall.Sentinels(outputLength);
                return new BadCall
                {
                    Target = Api.LayerCached, Parameter = parameter, Quotes = quotes ?? [], Watched = [input, output],
                    ExpectedVersusActual = !nullCache,
                    ExceptionType = nullCache ? typeof(ArgumentNullException) : null,
                    Call = () => layer.Forward(input, output, batch, sequenceLength, nullCache ? null! : cache, options),
                    AssertUnchanged = () => Assert.Equal(2, cache.Length),
                };
            });

        KvCache Fits() => new(8, 1, 4, batch: B);
        Add("cache null", "cache", Fits, QueryLength, QueryLength, B, Nq, nullCache: true);
        Add("cache with 2 kv heads", "cache", () => new KvCache(8, 2, 4, batch: B), QueryLength, QueryLength, B, Nq, quotes: ["1", "2"]);
        Add("cache with head dim 5", "cache", () => new KvCache(8, 1, 5, batch: B), QueryLength, QueryLength, B, Nq, quotes: ["4", "5"]);
        Add("cache with value dim 6", "cache", () => new KvCache(8, 1, 4, 6, batch: B), QueryLength, QueryLength, B, Nq, quotes: ["4", "6"]);
        Add("batch 1 for a cache of 2", "batch", () => new KvCache(8, 1, 4, batch: B), Nq * E, Nq * E, 1, Nq, quotes: ["2", "1"]);
        Add("cache too full for 3 tokens", "cache", () => new KvCache(4, 1, 4, batch: B), QueryLength, QueryLength, B, Nq, quotes: ["3", "2"]);
        Add("sequenceLength -1", "sequenceLength", Fits, QueryLength, QueryLength, B, -1, quotes: ["-1"]);
        Add("input one short", "input", Fits, QueryLength - 1, QueryLength, B, Nq, quotes: ["48", "47"]);
        Add("output one short", "output", Fits, QueryLength, QueryLength - 1, B, Nq, quotes: ["48", "47"]);
        foreach (var (name, options) in SomeBadOptions())
        {
            Add($"options: {name}", "options", Fits, QueryLength, QueryLength, B, Nq, options);
        }
    }

    private static void Forward(string target, MultiHeadAttention layer, ReadOnlySpan<float> query, ReadOnlySpan<float> keyValue, Span<float> output,
                                Span<float> weights, AttentionWeightsMode mode, int batch, int nq, int nk, AttentionOptions options)
    {
        switch (target)
        {
            case Api.LayerCross: layer.Forward(query, keyValue, output, batch, nq, nk, options); break;
            case Api.NaiveLayer: NaiveMultiHeadAttention.Forward(layer, query, keyValue, output, batch, nq, nk, options); break;
            case Api.LayerWeights: layer.Forward(query, keyValue, output, weights, mode, batch, nq, nk, options); break;
            default: NaiveMultiHeadAttention.Forward(layer, query, keyValue, output, weights, mode, batch, nq, nk, options); break;
        }
    }

    private static string Short(string target) => target switch
    {
        Api.LayerCross => "Forward(cross)",
        Api.NaiveLayer => "NaiveMultiHeadAttention.Forward",
        Api.LayerWeights => "Forward(weights)",
        _ => "NaiveMultiHeadAttention.Forward(weights)",
    };

    /// <summary>Buffers of one cross call; an alias (0 query, 1 keyValue, 2 output) makes output or weights a slice of that buffer.</summary>
    private sealed record Cross(int Query = QueryLength, int KeyValue = KeyValueLength, int Output = QueryLength, int Weights = PerHeadWeights,
                                AttentionWeightsMode Mode = AttentionWeightsMode.PerHead, int Batch = B, int Nq = Nq, int Nk = Nk,
                                AttentionOptions Options = default, int OutputAlias = -1, int WeightsAlias = -1);

    private static void Add(BadCallTable table, string target, string name, string parameter, Cross c, string[]? quotes = null) =>
        table.Add($"{Short(target)}: {name}", () =>
        {
            var layer = Layer();
            float[] q = BadCall.Sentinels(c.Query + (c.OutputAlias == 0 ? c.Output : 0) + (c.WeightsAlias == 0 ? c.Weights : 0));
            float[] kv = BadCall.Sentinels(c.KeyValue + (c.OutputAlias == 1 ? c.Output : 0) + (c.WeightsAlias == 1 ? c.Weights : 0));
            float[] o = BadCall.Sentinels(c.Output + (c.WeightsAlias == 2 ? c.Weights : 0));
            float[] w = BadCall.Sentinels(c.Weights);
            float[][] buffers = [q, kv, o];
            int[] lengths = [c.Query, c.KeyValue, c.Output];
            return new BadCall
            {
                Target = target, Parameter = parameter, Quotes = quotes ?? [], Watched = [q, kv, o, w],
                Call = () =>
                {
                    // An alias starts one element before the end of the buffer it overlaps.
                    Span<float> output = c.OutputAlias >= 0 ? buffers[c.OutputAlias].AsSpan(lengths[c.OutputAlias] - 1, c.Output) : o.AsSpan(0, c.Output);
                    Span<float> weights = c.WeightsAlias >= 0 ? buffers[c.WeightsAlias].AsSpan(lengths[c.WeightsAlias] - 1, c.Weights) : w;
                    Forward(target, layer, q.AsSpan(0, c.Query), kv.AsSpan(0, c.KeyValue), output, weights, c.Mode, c.Batch, c.Nq, c.Nk, c.Options);
                },
            };
        });

    private static void AddCrossCases(BadCallTable table, string target)
    {
        Add(table, target, "batch -1", "batch", new(Batch: -1), ["-1"]);
        Add(table, target, "queryLength -1", "queryLength", new(Nq: -1), ["-1"]);
        Add(table, target, "keyLength int.MinValue", "keyLength", new(Nk: int.MinValue), ["-2147483648"]);
        Add(table, target, "query one short", "query", new(Query: QueryLength - 1), ["48", "47"]);
        Add(table, target, "keyValue one long", "keyValue", new(KeyValue: KeyValueLength + 1), ["80", "81"]);
        Add(table, target, "keyValue of 1 where 2^26 is claimed", "keyValue", new(KeyValue: 1, Nk: 1 << 22, Weights: 1), ["67108864", "1"]);
        Add(table, target, "output empty", "output", new(Output: 0), ["48", "0"]);
        Add(table, target, "output overlaps query", "output", new(OutputAlias: 0));
        Add(table, target, "output overlaps keyValue", "output", new(OutputAlias: 1));
        Add(table, target, "batch·keyLength·ModelDim = 2^31", "keyLength", new(Batch: 1 << 12, Nk: 1 << 16, Query: 0, Nq: 0, Output: 0, Weights: 0), ["2147483647", "2147483648"]);
        foreach (var (name, options) in SomeBadOptions())
        {
            Add(table, target, $"options: {name}", "options", new(Options: options));
        }
    }

    private static void AddWeightsCases(BadCallTable table, string target)
    {
        Add(table, target, "mode 2", "mode", new(Mode: (AttentionWeightsMode)2), ["2"]);
        Add(table, target, "mode -1", "mode", new(Mode: (AttentionWeightsMode)(-1)), ["-1"]);
        Add(table, target, "per-head weights one short", "attentionWeights", new(Weights: PerHeadWeights - 1), ["60", "59"]);
        Add(table, target, "averaged weights sized per head", "attentionWeights", new(Mode: AttentionWeightsMode.AverageOverHeads, Weights: PerHeadWeights), ["30", "60"]);
        Add(table, target, "weights overlap query", "attentionWeights", new(WeightsAlias: 0));
        Add(table, target, "weights overlap keyValue", "attentionWeights", new(WeightsAlias: 1));
        Add(table, target, "weights overlap output", "attentionWeights", new(WeightsAlias: 2));
        Add(table, target, "batch·Heads·queryLength·keyLength = 2^33", "attentionWeights",
            new(Batch: 1, Nq: 1 << 16, Nk: 1 << 16, Query: (1 << 16) * E, KeyValue: (1 << 16) * E, Output: (1 << 16) * E, Weights: 1), ["2147483647", "8589934592"]);
    }

    // ---- valid edges ----

    public static TheoryData<string, int> CrossTargets() => new()
    {
        { Api.LayerCross, 0 }, { Api.LayerWeights, 0 }, { Api.LayerWeights, 1 },
    };

    /// <summary>Zero keys: every query row sees none, its attention output is 0 and W_o maps that to 0, so the row is b_o.</summary>
    [Theory]
    [MemberData(nameof(CrossTargets))]
    public void ZeroKeys_GiveOutputBiasRows(string target, int mode) => AssertZeroKeys(target, (AttentionWeightsMode)mode);

    [Fact]
    public void ZeroKeys_NaiveLayer_GivesOutputBiasRows() => AssertZeroKeys(Api.NaiveLayer, AttentionWeightsMode.PerHead);

    [Fact]
    public void ZeroKeys_NaiveLayerWeights_GivesOutputBiasRows() => AssertZeroKeys(Api.NaiveLayerWeights, AttentionWeightsMode.AverageOverHeads);

    private static void AssertZeroKeys(string target, AttentionWeightsMode mode)
    {
        foreach (bool bias in new[] { true, false })
        {
            var layer = MultiHeadAttention.CreateRandom(E, 2, seed: 5, kvHeads: 1, useBias: bias);
            float[] b = [.. Enumerable.Range(0, E).Select(c => c * 0.25f - 1f)];
            if (bias)
            {
                b.CopyTo(layer.OutputBias);
            }

            float[] query = [.. Enumerable.Range(0, QueryLength).Select(i => MathF.Sin(i))], output = BadCall.Sentinels(QueryLength);
            Forward(target, layer, query, [], output, [], mode, B, Nq, 0, default);
            for (int r = 0; r < B * Nq; r++)
            {
                Assert.Equal(bias ? b : new float[E], output.AsSpan(r * E, E).ToArray());
            }
        }
    }

    [Fact]
    public void ZeroKeys_SelfAttentionOfNoTokens_AndCachedNoTokens_WriteNothing()
    {
        var layer = Layer();
        layer.Forward([], [], 3, 0);
        layer.Forward([], [], 0, 1 << 20);
        var cache = new KvCache(4, 1, 4, batch: 2);
        layer.Forward([], [], 2, 0, cache);
        Assert.Equal(0, cache.Length);
    }

    [Fact]
    public void ZeroBatch_AveragedWeights_OfHugeLengths_ReturnsAtOnce()
    {
        // queryLength·keyLength = 1.6e9: the averaging buffer must not be rented for a call with no rows.
        var layer = Layer();
        layer.Forward([], [], [], [], AttentionWeightsMode.AverageOverHeads, 0, 40_000, 40_000);
        layer.Forward([], [], [], [], AttentionWeightsMode.PerHead, 0, 46_341, 46_341);
    }

    [Fact]
    public void ZeroQueryRows_WithKeys_WritesNothing()
    {
        var layer = Layer();
        float[] keyValue = new float[KeyValueLength];
        layer.Forward([], keyValue, [], [], AttentionWeightsMode.AverageOverHeads, B, 0, Nk);
        layer.Forward([], keyValue, [], B, 0, Nk);
    }

    [Fact]
    public void OneToken_MatchesTheReference()
    {
        var layer = Layer();
        float[] input = [.. Enumerable.Range(0, E).Select(i => MathF.Cos(i))], output = new float[E], expected = new float[E];
        layer.Forward(input, output, 1, 1);
        NaiveMultiHeadAttention.Forward(layer, input, input, expected, 1, 1, 1);
        for (int c = 0; c < E; c++)
        {
            Assert.Equal(expected[c], output[c], 4);
        }
    }
}
