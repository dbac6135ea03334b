using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// Hostile calls to <see cref="KvCache"/>: construction, <see cref="KvCache.Truncate"/>, <see cref="KvCache.Append"/> and
/// <see cref="KvCache.Attend"/> with wrong sizes, overflowing products and aliasing, for both storages; each leaves the
/// cache's length (and the output) as it was. Then the valid edges: no query rows, no cached keys, one row.
/// </summary>
public class KvCacheAdversarialTests
{
    private const string ArrayLimit = "2147483591";

    // The valid base: capacity 8, KvHeads 2, HeadDim 4, ValueDim 6, batch 2, three tokens cached; Attend with 4 heads, 1 row.
    private static KvCache Cache(KvCacheStorage storage)
    {
        var cache = new KvCache(8, 2, 4, 6, batch: 2, storage);
        cache.Append(Ramp(2 * 3 * 8), Ramp(2 * 3 * 12), 3);
        return cache;
    }

    private static float[] Ramp(int length) => [.. Enumerable.Range(0, length).Select(i => MathF.Sin(i * 0.37f))];

    internal static BadCallTable Table { get; } = Build();

    public static TheoryData<string> Names => Table.Names();

    [Theory]
    [MemberData(nameof(Names))]
    public void BadCall_IsRejectedBeforeAnythingIsWritten(string name) => Table.Run(name);

    private static BadCallTable Build()
    {
        var table = new BadCallTable();
        var ctor = new (string Name, string Parameter, int Capacity, int KvHeads, int HeadDim, int ValueDim, int Batch, KvCacheStorage Storage, string[] Quotes)[]
        {
            ("capacity 0", "capacity", 0, 1, 4, 0, 1, KvCacheStorage.Single, ["1", "0"]),
            ("capacity int.MinValue", "capacity", int.MinValue, 1, 4, 0, 1, KvCacheStorage.Single, ["-2147483648"]),
            ("kvHeads 0", "kvHeads", 8, 0, 4, 0, 1, KvCacheStorage.Single, ["1", "0"]),
            ("headDim -1", "headDim", 8, 1, -1, 0, 1, KvCacheStorage.Single, ["-1"]),
            ("valueDim -1", "valueDim", 8, 1, 4, -1, 1, KvCacheStorage.Single, ["-1"]),
            ("batch 0", "batch", 8, 1, 4, 0, 0, KvCacheStorage.Single, ["1", "0"]),
            ("storage 4", "storage", 8, 1, 4, 0, 1, (KvCacheStorage)4, ["4"]),
            ("storage -1", "storage", 8, 1, 4, 0, 1, (KvCacheStorage)(-1), ["-1"]),
            ("kvHeads·headDim = 2^32", "headDim", 1, 1 << 16, 1 << 16, 0, 1, KvCacheStorage.Single, [ArrayLimit, "4294967296"]),
            ("kvHeads·valueDim = 2^32", "valueDim", 1, 1 << 16, 1, 1 << 16, 1, KvCacheStorage.Half, [ArrayLimit, "4294967296"]),
            ("batch·capacity·kvHeads·headDim = 2^32, each factor 256", "capacity", 256, 256, 256, 0, 256, KvCacheStorage.Single, [ArrayLimit, "4294967296"]),
            ("all int.MaxValue", "headDim", int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue, KvCacheStorage.Half, [ArrayLimit]),
        };
        foreach (var f in ctor)
        {
            table.Add($"KvCache(): {f.Name}", () => new BadCall
            {
                Target = Api.KvCacheCtor, Parameter = f.Parameter, Quotes = f.Quotes,
                Call = () => _ = new KvCache(f.Capacity, f.KvHeads, f.HeadDim, f.ValueDim, f.Batch, f.Storage),
            });
        }

        foreach (var storage in new[] { KvCacheStorage.Single, KvCacheStorage.Half })
        {
            foreach (int length in new[] { -1, 4, int.MaxValue, int.MinValue })
            {
                table.Add($"Truncate ({storage}): {length}", () =>
                {
                    var cache = Cache(storage);
                    return new BadCall
                    {
                        Target = Api.KvCacheTruncate, Parameter = "length", Quotes = ["3", BadCall.Text(length)], ExceptionType = typeof(ArgumentOutOfRangeException),
                        Call = () => cache.Truncate(length), AssertUnchanged = () => Assert.Equal(3, cache.Length),
                    };
                });
            }

            void Append(string name, string parameter, int keys, int values, int tokenCount, string[] quotes) =>
                table.Add($"Append ({storage}): {name}", () =>
                {
                    var cache = Cache(storage);
                    return new BadCall
                    {
                        Target = Api.KvCacheAppend, Parameter = parameter, Quotes = quotes,
                        Call = () => cache.Append(new float[keys], new float[values], tokenCount),
                        AssertUnchanged = () => AssertCacheIntact(cache),
                    };
                });

            Append("tokenCount -1", "tokenCount", 0, 0, -1, ["-1"]);
            Append("tokenCount past capacity", "tokenCount", 2 * 6 * 8, 2 * 6 * 12, 6, ["5", "6"]);
            Append("tokenCount int.MaxValue", "tokenCount", 1, 1, int.MaxValue, ["5", "2147483647"]);
            Append("keys one short", "keys", 2 * 2 * 8 - 1, 2 * 2 * 12, 2, ["32", "31"]);
            Append("values sized with the head dim", "values", 2 * 2 * 8, 2 * 2 * 8, 2, ["48", "32"]);
            Append("keys for one batch entry only", "keys", 2 * 8, 2 * 2 * 12, 2, ["32", "16"]);

            void Attend(string name, string parameter, int query, int output, int heads, int queryLength, AttentionOptions options = default, bool alias = false, string[]? quotes = null) =>
                table.Add($"Attend ({storage}): {name}", () =>
                {
                    var cache = Cache(storage);
                    float[] q = BadCall.Sentinels(query + (alias ? output : 0)), o = BadCall.Sentinels(output);
                    return new BadCall
                    {
                        Target = Api.KvCacheAttend, Parameter = parameter, Quotes = quotes ?? [], Watched = [q, o],
                        Call = () => cache.Attend(q.AsSpan(0, query), alias ? q.AsSpan(query - 1, output) : o, heads, queryLength, options),
                        AssertUnchanged = () => AssertCacheIntact(cache),
                    };
                });

            const int q1 = 2 * 1 * 4 * 4, o1 = 2 * 1 * 4 * 6;
            Attend("heads 0", "heads", q1, o1, 0, 1, quotes: ["1", "0"]);
            Attend("heads -4", "heads", q1, o1, -4, 1, quotes: ["-4"]);
            Attend("heads 3 for 2 kv heads (named heads, not shape)", "heads", q1, o1, 3, 1, quotes: ["2", "3"]);
            Attend("queryLength -1", "queryLength", q1, o1, 4, -1, quotes: ["-1"]);
            Attend("query one short", "query", q1 - 1, o1, 4, 1, quotes: ["32", "31"]);
            Attend("output one long", "output", q1, o1 + 1, 4, 1, quotes: ["48", "49"]);
            Attend("query of 1 where 2^27 is claimed", "query", 1, o1, 4, 1 << 22, quotes: ["134217728", "1"]);
            Attend("heads·HeadDim = 2^32 with no rows", "heads", 0, 0, 1 << 30, 0, quotes: ["2147483647", "4294967296"]);
            Attend("Batch·queryLength·heads·ValueDim past int, each factor small", "queryLength", 0, 0, 1 << 14, 1 << 14, quotes: ["2147483647"]);
            Attend("output overlaps query", "output", q1, o1, 4, 1, alias: true);
            foreach (var (name, options) in SingleHeadAdversarialTests.BadOptions())
            {
                Attend($"options: {name}", "options", q1, o1, 4, 1, options);
            }
        }

        // Per-sequence members: a bad index or count is rejected naming it, and no sequence changes.
        foreach (var storage in new[] { KvCacheStorage.Single, KvCacheStorage.Int8 })
        {
            void Sequence(string name, string target, string parameter, string[] quotes, Action<KvCache> call, Type? exception = null) =>
                table.Add($"sequence {target.Split('(')[0].Split('.')[^1]} ({storage}): {name}", () =>
                {
                    var cache = Cache(storage);
                    return new BadCall
                    {
                        Target = target, Parameter = parameter, Quotes = quotes, ExceptionType = exception ?? typeof(ArgumentException),
                        Call = () => call(cache), AssertUnchanged = () => AssertCacheIntact(cache),
                    };
                });

            Sequence("batchIndex 2", Api.KvCacheAppendSequence, "batchIndex", ["1", "2"], c => c.Append(2, new float[8], new float[12], 1), typeof(ArgumentOutOfRangeException));
            Sequence("batchIndex int.MinValue", Api.KvCacheAppendSequence, "batchIndex", ["-2147483648"], c => c.Append(int.MinValue, new float[8], new float[12], 1), typeof(ArgumentOutOfRangeException));
            Sequence("tokenCount past the sequence's capacity", Api.KvCacheAppendSequence, "tokenCount", ["5", "6"], c => c.Append(1, new float[48], new float[72], 6));
            Sequence("tokenCount -1", Api.KvCacheAppendSequence, "tokenCount", ["-1"], c => c.Append(0, [], [], -1), typeof(ArgumentOutOfRangeException));
            Sequence("keys for two sequences", Api.KvCacheAppendSequence, "keys", ["8", "16"], c => c.Append(0, new float[16], new float[12], 1));
            Sequence("values one short", Api.KvCacheAppendSequence, "values", ["12", "11"], c => c.Append(0, new float[8], new float[11], 1));
            Sequence("batchIndex -1", Api.KvCacheTruncateSequence, "batchIndex", ["-1"], c => c.Truncate(-1, 0), typeof(ArgumentOutOfRangeException));
            Sequence("length past the sequence's", Api.KvCacheTruncateSequence, "length", ["3", "4"], c => c.Truncate(0, 4), typeof(ArgumentOutOfRangeException));
            Sequence("batchIndex 2", Api.KvCacheSequenceLength, "batchIndex", ["1", "2"], c => c.SequenceLength(2), typeof(ArgumentOutOfRangeException));
        }

        return table;
    }

    // Length 3 and the cached rows as appended: attention of a query against the cache gives what it gave before.
    private static void AssertCacheIntact(KvCache cache)
    {
        Assert.Equal(3, cache.Length);
        var reference = Cache(cache.Storage);
        float[] q = Ramp(2 * 1 * 4 * 4), o = new float[2 * 4 * 6], expected = new float[o.Length];
        cache.Attend(q, o, 4, 1);
        reference.Attend(q, expected, 4, 1);
        Assert.Equal(expected, o);
    }

    public static TheoryData<KvCacheStorage> Storages() => new(KvCacheStorage.Single, KvCacheStorage.Half);

    [Theory]
    [MemberData(nameof(Storages))]
    public void Attend_NoQueryRows_WritesNothing(KvCacheStorage storage)
    {
        var cache = Cache(storage);
        cache.Attend([], [], 4, 0);
        cache.Attend([], [], 1 << 20, 0);
        Assert.Equal(3, cache.Length);
    }

    [Theory]
    [MemberData(nameof(Storages))]
    public void Attend_NoCachedKeys_GivesZeros(KvCacheStorage storage)
    {
        var cache = new KvCache(8, 2, 4, 6, batch: 2, storage);
        float[] q = Ramp(2 * 3 * 4 * 4), o = BadCall.Sentinels(2 * 3 * 4 * 6);
        cache.Attend(q, o, 4, 3, new AttentionOptions { IsCausal = true });
        Assert.All(o, x => Assert.Equal(0f, x));
    }

    [Theory]
    [MemberData(nameof(Storages))]
    public void Append_NoTokens_ChangesNothing(KvCacheStorage storage)
    {
        var cache = Cache(storage);
        cache.Append([], [], 0);
        AssertCacheIntact(cache);
    }

    [Theory]
    [MemberData(nameof(Storages))]
    public void OneKey_GivesItsValueRow(KvCacheStorage storage)
    {
        var cache = new KvCache(1, 1, 1, 2, storage: storage);
        cache.Append([0.5f], [1.5f, -2f], 1);
        float[] o = BadCall.Sentinels(2);
        cache.Attend([3f], o, 1, 1);
        Assert.Equal([1.5f, -2f], o);
    }

    [Fact]
    public void Clear_KeepsCapacityAndForgetsTokens()
    {
        var cache = Cache(KvCacheStorage.Single);
        cache.Clear();
        Assert.Equal(0, cache.Length);
        Assert.Equal(8, cache.Capacity);
        cache.Append(new float[2 * 8 * 8], new float[2 * 8 * 12], 8);
        Assert.Equal(8, cache.Length);
    }
}
