using System.Globalization;
using CommunityToolkit.HighPerformance;
using SelfAttention.Kernels;
using SelfAttention.Reference;
using SelfAttention.Tests.Helpers;
using Xunit;
using static SelfAttention.Tests.Masks.UserModifiers;

namespace SelfAttention.Tests.Masks;

/// <summary>
/// User-defined modifiers (<see cref="IAttentionModifier{TSelf}"/>) through every kernel and entry point: a causal
/// rule written by hand equals the built-in causal bit for bit (with tile classification and without, every kernel,
/// degrees 1 and 2, BSNH and KV cache); document masking, a relative-position bias and a modifier that both masks and
/// modifies match <see cref="NaiveAttention"/> alone and combined with the built-in features, on ragged sizes; the
/// kernels ask only about elements inside the call; and the reference itself agrees with its own causal rule. The
/// suite runs at every SIMD width in CI. Tolerance: <see cref="Tolerance.Magnitude1"/> (inputs of magnitude 1; the
/// bias adds at most 1 to a score, the scaling by up to 1.75 keeps scores of magnitude ≤ 10).
/// </summary>
public class UserModifierTests
{
    private const int Batch = 3, Heads = 4, KvHeads = 2, HeadDim = 24, ValueDim = 8, MaxDistance = 6;

    private static readonly (int Nq, int Nk)[] s_sizes =
        [(1, 1), (3, 3), (3, 17), (17, 3), (17, 17), (63, 65), (65, 63), (127, 129), (129, 129), (1, 129), (3, 200), (200, 200)];

    private static readonly AttentionKernel[] s_kernels = [AttentionKernel.Auto, AttentionKernel.RowByRow, AttentionKernel.Tiled, AttentionKernel.Decode];

    public static TheoryData<AttentionKernel, int, int> KernelSizes
    {
        get
        {
            var data = new TheoryData<AttentionKernel, int, int>();
            foreach (var kernel in s_kernels)
            {
                foreach (var (nq, nk) in s_sizes)
                {
                    if (kernel != AttentionKernel.Decode || nq <= DecodeAttention.MaxQueryLength)
                    {
                        data.Add(kernel, nq, nk);
                    }
                }
            }

            return data;
        }
    }

    private static string Name(string what, AttentionKernel kernel, int nq, int nk) =>
        string.Create(CultureInfo.InvariantCulture, $"{what}, {kernel}, nq={nq} nk={nk} B={Batch} H={Heads} KvH={KvHeads} d={HeadDim} dv={ValueDim}, {SimdWidth.Name}");

    private static (float[] Q, float[] K, float[] V, AttentionShape Shape) Make(int nq, int nk, int seed)
    {
        var rng = new Random(seed);
        var shape = new AttentionShape(Batch, nq, nk, Heads, HeadDim) { KvHeads = KvHeads, ValueDim = ValueDim };
        return (TestInputs.Uniform(rng, Batch * nq * Heads * HeadDim, 1f), TestInputs.Uniform(rng, Batch * nk * KvHeads * HeadDim, 1f),
                TestInputs.Uniform(rng, Batch * nk * KvHeads * ValueDim, 1f), shape);
    }

    private static float[] Output(AttentionShape shape)
    {
        float[] output = new float[shape.Batch * shape.QueryLength * shape.Heads * ValueDim];
        output.AsSpan().Fill(-7f);
        return output;
    }

    [Theory]
    [MemberData(nameof(KernelSizes))]
    public void HandWrittenCausal_EqualsTheBuiltInCausal_BitForBit(AttentionKernel kernel, int nq, int nk)
    {
        var (q, k, v, shape) = Make(nq, nk, nq * 7 + nk);
        foreach (int degree in new[] { 1, 2 })
        {
            var options = new AttentionOptions { Kernel = kernel, MaxDegreeOfParallelism = degree };
            float[] builtIn = Output(shape), range = Output(shape), tiles = Output(shape), elements = Output(shape);
            Attention.ComputeMultiHead(q, k, v, builtIn, shape, options with { IsCausal = true });
            Attention.ComputeMultiHead(q, k, v, range, shape, new RangeCausal(nk - nq), default, options);
            Attention.ComputeMultiHead(q, k, v, tiles, shape, new HandCausal(nk - nq), default, options);
            Attention.ComputeMultiHead(q, k, v, elements, shape, new HandCausalPerElement(nk - nq), default, options);
            string context = Name($"degree {degree}", kernel, nq, nk);
            Oracle.AssertBitIdentical(builtIn, range, context + ", exact key range");

            // Asked per element, the tiled kernel still gives the same bits (it masks a tile with −∞ and then runs the
            // same vector code). The row-by-row and decode kernels sum a row that is not a range key by key, in another
            // order than a range's vector sums, so there the per-element rule agrees to float rounding only.
            if (ResolvesToTiled(shape, options))
            {
                Oracle.AssertBitIdentical(builtIn, tiles, context + ", per element, with tile classification");
                Oracle.AssertBitIdentical(builtIn, elements, context + ", per element");
            }
            else
            {
                Oracle.AssertClose(builtIn, tiles, Batch * nq, Heads * ValueDim, Tolerance.Magnitude1, context + ", per element, with tile classification");
                Oracle.AssertClose(builtIn, elements, Batch * nq, Heads * ValueDim, Tolerance.Magnitude1, context + ", per element");
            }
        }
    }

    private static unsafe bool ResolvesToTiled(AttentionShape shape, AttentionOptions options)
    {
        var problem = AttentionProblem.Create(null, Heads * HeadDim, null, KvHeads * HeadDim, null, KvHeads * ValueDim, null, Heads * ValueDim,
                                              Batch, Heads, KvHeads, shape.QueryLength, shape.KeyLength, shape.KeyLength, HeadDim, ValueDim, 1f, options);
        return KernelDispatch.Resolve(problem, options.Kernel).Kernel == KernelChoice.Tiled;
    }

    [Theory]
    [InlineData(KvCacheStorage.Single, 1)]
    [InlineData(KvCacheStorage.Single, 4)]
    [InlineData(KvCacheStorage.Half, 1)]
    [InlineData(KvCacheStorage.Int8, 3)]
    public void HandWrittenCausal_InAKvCache_EqualsTheBuiltInCausal_BitForBit(KvCacheStorage storage, int queryLength)
    {
        var rng = new Random(queryLength + (int)storage);
        const int length = 150;
        var cache = new KvCache(160, KvHeads, HeadDim, ValueDim, Batch, storage);
        cache.Append(TestInputs.Uniform(rng, Batch * length * KvHeads * HeadDim, 1f), TestInputs.Uniform(rng, Batch * length * KvHeads * ValueDim, 1f), length);
        float[] query = TestInputs.Uniform(rng, Batch * queryLength * Heads * HeadDim, 1f);
        float[] builtIn = new float[Batch * queryLength * Heads * ValueDim], hand = new float[builtIn.Length];
        cache.Attend(query, builtIn, Heads, queryLength, new AttentionOptions { IsCausal = true });
        cache.Attend(query, hand, Heads, queryLength, new RangeCausal(length - queryLength), default);
        Oracle.AssertBitIdentical(builtIn, hand, $"{storage}, nq={queryLength}, {SimdWidth.Name}");
    }

    /// <summary>The user modifiers of the differential cases, by name, with what each runs on top of.</summary>
    public static TheoryData<string, AttentionKernel, int, int> Cases
    {
        get
        {
            var data = new TheoryData<string, AttentionKernel, int, int>();
            string[] names = ["documents", "documents (causal)", "document runs", "document runs (causal)", "relative bias", "both", "both + causal + alibi + lse",
                              "relative bias + softcap + sinks", "documents + lengths"];
            foreach (string name in names)
            {
                foreach (var kernel in s_kernels)
                {
                    foreach (var (nq, nk) in s_sizes)
                    {
                        if ((kernel != AttentionKernel.Decode || nq <= DecodeAttention.MaxQueryLength) && (!name.StartsWith("document", StringComparison.Ordinal) || nq == nk))
                        {
                            data.Add(name, kernel, nq, nk);
                        }
                    }
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void UserModifier_MatchesTheReference(string name, AttentionKernel kernel, int nq, int nk)
    {
        var (q, k, v, shape) = Make(nq, nk, nq * 131 + nk + name.Length);
        var rng = new Random(nq + nk);
        int[] documents = Documents(nq, rng);
        float[] bias = TestInputs.Uniform(rng, Heads * (2 * MaxDistance + 1), 1f);
        float[] slopes = [0.5f, 0.25f, 0.125f, 0.0625f], sinks = [0.3f, -1f, 2.5f, 0f];
        var options = new AttentionOptions { Kernel = kernel };
        bool alibi = false, sink = false, lse = false, lengths = false;
        switch (name)
        {
            case "both + causal + alibi + lse":
                (options, alibi, lse) = (options with { IsCausal = true }, true, true);
                break;
            case "relative bias + softcap + sinks":
                (options, sink) = (options with { SoftCap = 2f, Scale = 0.5f }, true);
                break;
            case "documents + lengths":
                lengths = true;
                break;
        }

        int[] keyLengths = [nk, Math.Max(0, nk - 5), nk / 2], queryLengths = [nq, Math.Max(0, nq - 5), nq / 2];
        float[] expected = Output(shape), actual = Output(shape);
        float[] expectedLse = new float[Batch * Heads * nq], actualLse = new float[expectedLse.Length];
        AttentionModifiers Modifiers(float[] l) => new()
        {
            AlibiSlopes = alibi ? slopes : default, Sinks = sink ? sinks : default, LogSumExp = lse ? l : default,
        };

        void Run<TModifier>(TModifier modifier) where TModifier : struct, IAttentionModifier<TModifier>
        {
            if (lengths)
            {
                NaiveAttention.ComputeMultiHeadPadded(q, k, v, expected, shape, keyLengths, queryLengths, modifier, Modifiers(expectedLse), options);
                Attention.ComputeMultiHeadPadded(q, k, v, actual, shape, keyLengths, queryLengths, modifier, Modifiers(actualLse), options);
            }
            else
            {
                NaiveAttention.ComputeMultiHead(q, k, v, expected, shape, modifier, Modifiers(expectedLse), options);
                Attention.ComputeMultiHead(q, k, v, actual, shape, modifier, Modifiers(actualLse), options);
            }
        }

        switch (name)
        {
            case "documents":
            case "documents + lengths":
                Run(new UserModifiers.Documents(documents, causal: false));
                break;
            case "documents (causal)":
                Run(new UserModifiers.Documents(documents, causal: true));
                break;
            case "document runs":
                Run(new DocumentRuns(documents, causal: false));
                break;
            case "document runs (causal)":
                Run(new DocumentRuns(documents, causal: true));
                break;
            case "relative bias":
            case "relative bias + softcap + sinks":
                Run(new RelativeBias(bias, MaxDistance, nk - nq));
                break;
            default:
                Run(new Both());
                break;
        }

        string context = Name(name, kernel, nq, nk);
        Oracle.AssertClose(expected, actual, Batch * nq, Heads * ValueDim, Tolerance.Magnitude1, context);
        if (lse)
        {
            Oracle.AssertClose(expectedLse, actualLse, Batch * Heads, nq, Tolerance.Magnitude1, context + ", log-sum-exp");
        }
    }

    /// <summary>Document ids for <paramref name="tokens"/> packed tokens: documents of 1 to 70 tokens, in order.</summary>
    private static int[] Documents(int tokens, Random rng)
    {
        int[] documents = new int[tokens];
        for (int t = 0, id = 0; t < tokens; id++)
        {
            for (int n = rng.Next(1, 71); n > 0 && t < tokens; n--, t++)
            {
                documents[t] = id;
            }
        }

        return documents;
    }

    [Fact]
    public void DocumentMask_OverOneLongHead_EqualsEachDocumentAlone()
    {
        // Single head, 1000 tokens in documents of 1-70: each document's rows equal that document run on its own.
        var rng = new Random(1000);
        const int tokens = 1000, d = 32;
        int[] documents = Documents(tokens, rng);
        float[] q = TestInputs.Uniform(rng, tokens * d, 1f), k = TestInputs.Uniform(rng, tokens * d, 1f), v = TestInputs.Uniform(rng, tokens * d, 1f);
        float[] output = new float[tokens * d];
        Attention.Compute(q.AsSpan().AsSpan2D(tokens, d), k.AsSpan().AsSpan2D(tokens, d), v.AsSpan().AsSpan2D(tokens, d),
                          output.AsSpan().AsSpan2D(tokens, d), new UserModifiers.Documents(documents, causal: true), default);
        for (int start = 0; start < tokens;)
        {
            int end = start;
            while (end < tokens && documents[end] == documents[start]) end++;
            int n = end - start;
            float[] alone = new float[n * d];
            NaiveAttention.Compute(q.AsSpan(start * d, n * d).AsSpan2D(n, d), k.AsSpan(start * d, n * d).AsSpan2D(n, d),
                                   v.AsSpan(start * d, n * d).AsSpan2D(n, d), alone.AsSpan().AsSpan2D(n, d), new AttentionOptions { IsCausal = true });
            Oracle.AssertClose(alone, output.AsSpan(start * d, n * d), n, d, Tolerance.Magnitude1, $"document at {start}, {n} tokens, {SimdWidth.Name}");
            start = end;
        }
    }

    [Theory]
    [InlineData(KvCacheStorage.Single, 1)]
    [InlineData(KvCacheStorage.Single, 5)]
    [InlineData(KvCacheStorage.Half, 1)]
    [InlineData(KvCacheStorage.Single, 11)]
    public void UserModifier_InAKvCache_MatchesTheReferenceOverTheCachedTokens(KvCacheStorage storage, int queryLength)
    {
        var rng = new Random(queryLength * 3 + (int)storage);
        int[] lengths = [40, 13, 27];
        int length = lengths.Max(), keyWidth = KvHeads * HeadDim, valueWidth = KvHeads * ValueDim;
        var cache = new KvCache(48, KvHeads, HeadDim, ValueDim, Batch, storage);
        float[] keys = new float[Batch * length * keyWidth], values = new float[Batch * length * valueWidth];
        for (int b = 0; b < Batch; b++)
        {
            float[] kb = TestInputs.Uniform(rng, lengths[b] * keyWidth, 1f), vb = TestInputs.Uniform(rng, lengths[b] * valueWidth, 1f);
            cache.Append(b, kb, vb, lengths[b]);
            Func<float, float> stored = storage == KvCacheStorage.Half ? x => (float)(Half)x : x => x;
            kb.Select(stored).ToArray().CopyTo(keys, b * length * keyWidth);
            vb.Select(stored).ToArray().CopyTo(values, b * length * valueWidth);
        }

        float[] query = TestInputs.Uniform(rng, Batch * queryLength * Heads * HeadDim, 1f);
        var shape = new AttentionShape(Batch, queryLength, length, Heads, HeadDim) { KvHeads = KvHeads, ValueDim = ValueDim };
        int[] queryLengths = [queryLength, queryLength, queryLength];
        float[] bias = TestInputs.Uniform(rng, Heads * (2 * MaxDistance + 1), 1f);
        var options = new AttentionOptions { IsCausal = true };
        foreach (string what in new[] { "both", "relative bias" })
        {
            float[] expected = new float[Batch * queryLength * Heads * ValueDim], actual = new float[expected.Length];
            if (what == "both")
            {
                NaiveAttention.ComputeMultiHeadPadded(query, keys, values, expected, shape, lengths, queryLengths, new Both(), default, options);
                cache.Attend(query, actual, Heads, queryLength, new Both(), default, options);
            }
            else
            {
                // Offset 0: a bias on the raw indices (the kernels pass row and key indices, not positions).
                NaiveAttention.ComputeMultiHeadPadded(query, keys, values, expected, shape, lengths, queryLengths, new RelativeBias(bias, MaxDistance, 0), default, options);
                cache.Attend(query, actual, Heads, queryLength, new RelativeBias(bias, MaxDistance, 0), default, options);
            }

            Oracle.AssertClose(expected, actual, Batch * queryLength, Heads * ValueDim, Tolerance.Magnitude1, $"{what}, {storage}, nq={queryLength}, {SimdWidth.Name}");
        }
    }

    [Theory]
    [InlineData(AttentionKernel.RowByRow)]
    [InlineData(AttentionKernel.Tiled)]
    [InlineData(AttentionKernel.Decode)]
    public void Kernels_AskOnlyAboutElementsInsideEachSequence(AttentionKernel kernel)
    {
        int nq = kernel == AttentionKernel.Decode ? 4 : 70, nk = 90;
        var (q, k, v, shape) = Make(nq, nk, 3);
        int[] keyLengths = [90, 31, 0], queryLengths = [nq, nq / 2, nq];
        int[] faults = new int[2];
        var probe = new IndexProbe(faults, Batch, Heads, nq, nk, queryLengths, keyLengths);
        float[] expected = Output(shape), actual = Output(shape);
        var options = new AttentionOptions { Kernel = kernel, IsCausal = true, MaxDegreeOfParallelism = 2 };
        Attention.ComputeMultiHeadPadded(q, k, v, actual, shape, keyLengths, queryLengths, probe, default, options);
        Attention.ComputeMultiHeadPadded(q, k, v, expected, shape, keyLengths, queryLengths, options);
        Assert.True(faults[0] == 0, $"{kernel}: {faults[0]} questions outside the shape");
        Assert.True(faults[1] == 0, $"{kernel}: {faults[1]} questions past a sequence's real lengths");
        Oracle.AssertBitIdentical(expected, actual, $"{kernel}: an identity modifier changes nothing");
    }

    [Theory]
    [InlineData(AttentionKernel.RowByRow)]
    [InlineData(AttentionKernel.Tiled)]
    [InlineData(AttentionKernel.Decode)]
    public void KeyRange_OutsideTheHead_IsClamped(AttentionKernel kernel)
    {
        int nq = kernel == AttentionKernel.Decode ? 3 : 40;
        var (q, k, v, shape) = Make(nq, 50, 4);
        var options = new AttentionOptions { Kernel = kernel };
        float[] plain = Output(shape), wide = Output(shape), reversed = Output(shape), window = Output(shape), expected = Output(shape);
        Attention.ComputeMultiHead(q, k, v, plain, shape, options);
        Attention.ComputeMultiHead(q, k, v, wide, shape, new FixedRange(-5, 1000), default, options);
        Attention.ComputeMultiHead(q, k, v, reversed, shape, new FixedRange(30, 10), default, options);
        Attention.ComputeMultiHead(q, k, v, window, shape, new FixedRange(10, 30), default, options);
        NaiveAttention.ComputeMultiHead(q, k, v, expected, shape, new FixedRange(10, 30), default, options);
        Oracle.AssertBitIdentical(plain, wide, $"{kernel}: a range past both ends is every key");
        Assert.All(reversed, x => Assert.Equal(0f, x));
        Oracle.AssertClose(expected, window, Batch * nq, Heads * ValueDim, Tolerance.Magnitude1, $"{kernel}: keys [10, 30)");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Layer_WithAHandWrittenCausal_EqualsTheBuiltInCausal_BitForBit(int degree)
    {
        var layer = MultiHeadAttention.CreateRandom(64, 4, seed: 9, kvHeads: 2);
        var rng = new Random(degree);
        const int batch = 2, tokens = 37;
        float[] input = TestInputs.Uniform(rng, batch * tokens * 64, 1f), builtIn = new float[input.Length], hand = new float[input.Length];
        var options = new AttentionOptions { MaxDegreeOfParallelism = degree };
        layer.Forward(input, builtIn, batch, tokens, options with { IsCausal = true });
        layer.Forward(input, hand, batch, tokens, new RangeCausal(0), default, options);
        Oracle.AssertBitIdentical(builtIn, hand, $"self-attention, degree {degree}, {SimdWidth.Name}");

        // Prefill 30 tokens, then 7 steps of one token, through caches: the hand-written rule sees what causal sees.
        var builtInCache = new KvCache(64, 2, 16, batch: batch);
        var handCache = new KvCache(64, 2, 16, batch: batch);
        for (int start = 0; start < tokens; start += start == 0 ? 30 : 1)
        {
            int n = start == 0 ? 30 : 1;
            float[] step = new float[batch * n * 64];
            for (int b = 0; b < batch; b++)
            {
                input.AsSpan((b * tokens + start) * 64, n * 64).CopyTo(step.AsSpan(b * n * 64));
            }

            float[] expected = new float[step.Length], actual = new float[step.Length];
            layer.Forward(step, expected, batch, n, builtInCache, options with { IsCausal = true });
            layer.Forward(step, actual, batch, n, handCache, new RangeCausal(start), default, options);
            Oracle.AssertBitIdentical(expected, actual, $"cached, tokens {start}..{start + n}, degree {degree}, {SimdWidth.Name}");
        }
    }

    [Theory]
    [InlineData(8)]
    [InlineData(63)]
    public void Reference_HandWrittenCausal_EqualsItsOwnCausal(int nq)
    {
        var (q, k, v, shape) = Make(nq, 70, nq);
        float[] builtIn = Output(shape), hand = Output(shape);
        NaiveAttention.ComputeMultiHead(q, k, v, builtIn, shape, new AttentionOptions { IsCausal = true });
        NaiveAttention.ComputeMultiHead(q, k, v, hand, shape, new HandCausalPerElement(70 - nq), default);
        Oracle.AssertBitIdentical(builtIn, hand, $"reference, nq={nq}");
    }

    [Fact]
    public void WeightsOverload_MatchesTheReference()
    {
        var rng = new Random(9);
        const int nq = 37, nk = 70, d = 16;
        float[] q = TestInputs.Uniform(rng, nq * d, 1f), k = TestInputs.Uniform(rng, nk * d, 1f), v = TestInputs.Uniform(rng, nk * d, 1f);
        float[] expected = new float[nq * d], actual = new float[nq * d], expectedWeights = new float[nq * nk], actualWeights = new float[nq * nk];
        NaiveAttention.Compute(q.AsSpan().AsSpan2D(nq, d), k.AsSpan().AsSpan2D(nk, d), v.AsSpan().AsSpan2D(nk, d), expected.AsSpan().AsSpan2D(nq, d),
                               expectedWeights.AsSpan().AsSpan2D(nq, nk), new Both(), default);
        Attention.Compute(q.AsSpan().AsSpan2D(nq, d), k.AsSpan().AsSpan2D(nk, d), v.AsSpan().AsSpan2D(nk, d), actual.AsSpan().AsSpan2D(nq, d),
                          actualWeights.AsSpan().AsSpan2D(nq, nk), new Both(), default);
        Oracle.AssertClose(expected, actual, nq, d, Tolerance.Magnitude1, "output");
        Oracle.AssertClose(expectedWeights, actualWeights, nq, nk, Tolerance.Weights, "weights");
    }

    [Fact]
    public void ScoreModifier_WithSumNormalisation_IsRejectedBeforeAnythingIsWritten()
    {
        var (q, k, v, shape) = Make(5, 9, 1);
        float[] output = Output(shape);
        var options = new AttentionOptions { Normalization = AttentionNormalization.Sum };
        var e = Assert.ThrowsAny<ArgumentException>(() => Attention.ComputeMultiHead(q, k, v, output, shape, new Both(), default, options));
        Assert.Equal("modifier", e.ParamName);
        Assert.Contains("Softmax", e.Message, StringComparison.Ordinal);
        Assert.All(output, x => Assert.Equal(-7f, x));
        var r = Assert.ThrowsAny<ArgumentException>(() => NaiveAttention.ComputeMultiHead(q, k, v, output, shape, new Both(), default, options));
        Assert.Equal(e.Message, r.Message);
    }

    [Fact]
    public void MaskOnlyModifier_WithSumNormalisation_MatchesTheReference()
    {
        var (q, k, v, shape) = Make(40, 40, 2);
        q = [.. q.Select(Math.Abs)];
        k = [.. k.Select(Math.Abs)];
        var options = new AttentionOptions { Normalization = AttentionNormalization.Sum };
        float[] expected = Output(shape), actual = Output(shape);
        NaiveAttention.ComputeMultiHead(q, k, v, expected, shape, new HandCausalPerElement(0), default, options);
        Attention.ComputeMultiHead(q, k, v, actual, shape, new HandCausalPerElement(0), default, options);
        Oracle.AssertClose(expected, actual, Batch * 40, Heads * ValueDim, Tolerance.Magnitude1, $"sum normalisation, {SimdWidth.Name}");
    }
}
