using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SelfAttention.Tests.Helpers;
using SelfAttention.Transformers;
using SelfAttention.Transformers.Reference;
using Xunit;

namespace SelfAttention.Tests.Transformers;

/// <summary>
/// The encoder stack on packed sequences: <see cref="TransformerEncoder"/> against <see cref="NaiveTransformerEncoder"/>
/// (double, plain loops) at the width this process runs, packed against one-by-one and against equal-length batches,
/// every degree of parallelism, pooling and normalisation, and the attention weights a heatmap shows.
/// <para>
/// Tolerance, derived: the embedding sum and its LayerNorm err by a few u (u = 2⁻²⁴) relative; each layer adds at most
/// 8·(f + 2d)·u·√f (EncoderLayerTests' bound, 3.4e-4 at d = 32, f = 64) and passes the error it receives on through two
/// LayerNorms, with |γ|/σ ≤ 1.2/0.5 for these weights: a factor of at most 2.4² ≈ 6 per layer. Over L = 2 layers the
/// bound is therefore (1 + 6)·3.4e-4 ≈ 2.4e-3; measured errors are about a tenth of it. A wrong position (counted
/// across the batch instead of per sequence), a missing token-type row or a sequence attending to its neighbour
/// changes the output by 1e-1 or more.
/// </para>
/// </summary>
public class TransformerEncoderTests
{
    private const double U = 1.0 / (1 << 24);
    private const int Vocabulary = 50, Positions = 40, D = 32, Heads = 4, F = 64, Layers = 2;

    private static readonly EncoderWeights s_weights = EncoderWeights.CreateRandom(Vocabulary, Positions, D, Heads, F, Layers, seed: 7);
    private static readonly TransformerEncoder s_encoder = new(s_weights);

    private static double Bound => (1 + 6) * 8 * (F + 2 * D) * U * Math.Sqrt(F);

    public static TheoryData<int[]> Batches => new()
    {
        { [1] },
        { [3] },
        { [17, 1, 3] },
        { [0, 5, 0] },
        { [40, 33, 2] },
    };

    [Theory]
    [MemberData(nameof(Batches))]
    public void MatchesTheReference(int[] lengths)
    {
        (int[] ids, int[] types, int[] offsets) = Packed(lengths, seed: lengths.Sum());
        var hidden = new float[ids.Length * D];
        var expected = new double[ids.Length * D];
        s_encoder.Forward(ids, types, offsets, hidden);
        NaiveTransformerEncoder.Forward(s_weights, ids, types, offsets, expected);
        for (int i = 0; i < hidden.Length; i++)
        {
            Assert.True(Math.Abs(hidden[i] - expected[i]) <= Bound,
                $"lengths [{string.Join(", ", lengths)}]: element {i} (token {i / D}): {hidden[i]:R} against {expected[i]:R}, bound {Bound:G3} ({SimdWidth.Name}).");
        }
    }

    [Property(MaxTest = 25)]
    public Property PackedEqualsEachSequenceAlone() => Prop.ForAll(
        Gen.Choose(0, 12).ArrayOf().Where(a => a.Length is > 0 and < 6).ToArbitrary(),
        lengths =>
        {
            (int[] ids, int[] types, int[] offsets) = Packed(lengths, seed: 11);
            var packed = new float[ids.Length * D];
            s_encoder.Forward(ids, types, offsets, packed);
            for (int b = 0; b < lengths.Length; b++)
            {
                int start = offsets[b], n = lengths[b];
                var alone = new float[n * D];
                s_encoder.Forward(ids.AsSpan(start, n), types.AsSpan(start, n), [0, n], alone);
                Assert.Equal(alone, packed.AsSpan(start * D, n * D).ToArray());
            }
        });

    [Fact]
    public void PackedEqualLengthsEqualTheBatchedLayer()
    {
        var rng = new Random(3);
        float[] x = TestInputs.Uniform(rng, 3 * 9 * D, 1f);
        var batched = new float[x.Length];
        var packed = new float[x.Length];
        EncoderLayer layer = s_encoder.Layers[0];
        layer.Forward(x, batched, 3, 9);
        layer.Forward(x, packed, [0, 9, 18, 27]);
        Assert.Equal(batched, packed);
    }

    [Fact]
    public void EveryDegreeOfParallelismGivesTheSameBits()
    {
        (int[] ids, int[] types, int[] offsets) = Packed([17, 40, 5, 23], seed: 5);
        var one = new float[ids.Length * D];
        s_encoder.Forward(ids, types, offsets, one, 1);
        foreach (int degree in new[] { 2, 3, -1 })
        {
            var many = new float[one.Length];
            s_encoder.Forward(ids, types, offsets, many, degree);
            Assert.Equal(one, many);
        }
    }

    [Fact]
    public void TokenTypesAndPositionsCount()
    {
        // The same ids with another token type, or shifted by one position, must give other states.
        (int[] ids, int[] types, int[] offsets) = Packed([6], seed: 9);
        var a = new float[6 * D];
        var b = new float[6 * D];
        s_encoder.Forward(ids, [], offsets, a);
        s_encoder.Forward(ids, [1, 1, 1, 1, 1, 1], offsets, b);
        Assert.NotEqual(a, b);
        s_encoder.Forward(ids, [], offsets, b);
        Assert.Equal(a, b);
        _ = types;
    }

    [Fact]
    public void TheEmbeddingsAloneMatchTheReferenceSum()
    {
        (int[] ids, int[] types, int[] offsets) = Packed([4, 7], seed: 2);
        var hidden = new float[ids.Length * D];
        s_encoder.Forward(ids, types, offsets, hidden, layerCount: 0, maxDegreeOfParallelism: 1);
        EmbeddingWeights e = s_weights.Embeddings;
        for (int b = 0; b < 2; b++)
        {
            for (int t = offsets[b]; t < offsets[b + 1]; t++)
            {
                var sum = new double[D];
                for (int c = 0; c < D; c++)
                {
                    sum[c] = (double)e.Words[ids[t] * D + c] + e.Positions[(t - offsets[b]) * D + c] + e.TokenTypes[types[t] * D + c];
                }

                double mean = sum.Average(), variance = sum.Select(v => (v - mean) * (v - mean)).Average();
                for (int c = 0; c < D; c++)
                {
                    double expected = (sum[c] - mean) / Math.Sqrt(variance + 1e-12) * e.NormGamma[c] + e.NormBeta[c];
                    Assert.True(Math.Abs(hidden[t * D + c] - expected) <= 64 * U * (1 + Math.Abs(expected)),
                        $"token {t}, channel {c}: {hidden[t * D + c]:R} against {expected:R} ({SimdWidth.Name}).");
                }
            }
        }
    }

    [Fact]
    public void AttentionWeightsAreTheLayersSoftmax()
    {
        (int[] ids, _, _) = Packed([9], seed: 4);
        int n = ids.Length;
        var weights = new float[Heads * n * n];
        s_encoder.AttentionWeights(ids, 1, weights);

        // Recompute layer 1's scores in double from the state it receives.
        var hidden = new float[n * D];
        s_encoder.Forward(ids, [], [0, n], hidden, layerCount: 1, maxDegreeOfParallelism: 1);
        EncoderLayerWeights w = s_weights.Layers[1];
        int dh = D / Heads;
        double[] Project(float[] matrix, float[] bias)
        {
            var y = new double[n * D];
            for (int t = 0; t < n; t++)
            {
                for (int o = 0; o < D; o++)
                {
                    double sum = bias[o];
                    for (int i = 0; i < D; i++)
                    {
                        sum += (double)hidden[t * D + i] * matrix[i * D + o];
                    }

                    y[t * D + o] = sum;
                }
            }

            return y;
        }

        double[] q = Project(w.QueryWeights, w.QueryBias), k = Project(w.KeyWeights, w.KeyBias);
        for (int h = 0; h < Heads; h++)
        {
            for (int i = 0; i < n; i++)
            {
                var s = new double[n];
                for (int j = 0; j < n; j++)
                {
                    for (int c = 0; c < dh; c++)
                    {
                        s[j] += q[i * D + h * dh + c] * k[j * D + h * dh + c] / Math.Sqrt(dh);
                    }
                }

                double max = s.Max(), total = s.Sum(v => Math.Exp(v - max));
                for (int j = 0; j < n; j++)
                {
                    double expected = Math.Exp(s[j] - max) / total;
                    Assert.True(Math.Abs(weights[(h * n + i) * n + j] - expected) <= 1e-5,
                        $"head {h}, row {i}, key {j}: {weights[(h * n + i) * n + j]:R} against {expected:R} ({SimdWidth.Name}).");
                }
            }
        }
    }

    [Fact]
    public void PoolingMatchesItsDefinition()
    {
        float[] hidden = TestInputs.Uniform(new Random(8), 10 * 3, 100f);
        int[] offsets = [0, 4, 4, 10];
        var mean = new float[9];
        var cls = new float[9];
        Pooling.Pool(hidden, offsets, 3, PoolingMode.Mean, mean);
        Pooling.Pool(hidden, offsets, 3, PoolingMode.Cls, cls);
        for (int b = 0; b < 3; b++)
        {
            for (int c = 0; c < 3; c++)
            {
                int n = offsets[b + 1] - offsets[b];
                double expected = n == 0 ? 0 : Enumerable.Range(offsets[b], n).Sum(t => (double)hidden[t * 3 + c]) / n;
                Assert.True(Math.Abs(mean[b * 3 + c] - expected) <= 16 * U * 100, $"mean {b}, {c}: {mean[b * 3 + c]} against {expected}");
                Assert.Equal(n == 0 ? 0 : hidden[offsets[b] * 3 + c], cls[b * 3 + c]);
            }
        }
    }

    [Fact]
    public void NormalizationGivesUnitRowsAndKeepsZeroRowsZero()
    {
        float[] rows = [3, 4, 0, 0, 1e30f, 1e30f, 1e-30f, -1e-30f, float.MaxValue, 0];
        Pooling.NormalizeL2(rows, 2);
        Assert.Equal([0.6f, 0.8f], rows[..2]);
        Assert.Equal([0f, 0f], rows[2..4]);
        Assert.Equal(1.0, Math.Sqrt(rows[4] * (double)rows[4] + rows[5] * (double)rows[5]), 6);
        // ‖x‖ = 1.4e-30 is below the floor 1e-12, so the row is divided by 1e-12, as torch.nn.functional.normalize does.
        Assert.Equal([1e-18f, -1e-18f], rows[6..8]);
        Assert.Equal([1f, 0f], rows[8..]);
    }

    [Fact]
    public void TheSentenceEmbedderIsTheEncoderPooledAndNormalised()
    {
        var embedder = new SentenceEmbedder(new TransformerEncoder(EncoderWeights.CreateRandom(8, 6, D, Heads, F, 1, 3)), Adversarial.TinyVocabulary.Tokenizer);
        string[] sentences = ["hello world", "", "worlds hello hello", "hello zebra"];
        var e = new float[sentences.Length * D];
        embedder.Embed(sentences, e);
        for (int s = 0; s < sentences.Length; s++)
        {
            var ids = new int[6];
            int n = embedder.Tokenizer.Encode(sentences[s], ids);
            var hidden = new float[n * D];
            embedder.Encoder.Forward(ids.AsSpan(0, n), [], [0, n], hidden);
            var pooled = new float[D];
            Pooling.Pool(hidden, [0, n], D, PoolingMode.Mean, pooled);
            Pooling.NormalizeL2(pooled, D);
            Assert.Equal(pooled, e.AsSpan(s * D, D).ToArray());
            Assert.Equal(pooled, embedder.Embed(sentences[s]));
        }

        // "hello zebra": the unknown word is [UNK] (id 1); "worlds" is world ##s; 6 tokens at most, so truncated.
        Assert.Equal(["[CLS]", "hello", "[UNK]", "[SEP]"], embedder.Tokenizer.Tokenize("hello zebra"));
        Assert.Equal(["[CLS]", "world", "##s", "hello", "hello", "[SEP]"], embedder.Tokenizer.Tokenize("worlds hello hello", 6));
    }

    // Random ids and token types for sequences of the given lengths, packed, with their offsets.
    private static (int[] Ids, int[] Types, int[] Offsets) Packed(int[] lengths, int seed)
    {
        var rng = new Random(seed);
        var offsets = new int[lengths.Length + 1];
        for (int b = 0; b < lengths.Length; b++)
        {
            offsets[b + 1] = offsets[b] + lengths[b];
        }

        int[] ids = [.. Enumerable.Range(0, offsets[^1]).Select(_ => rng.Next(Vocabulary))];
        int[] types = [.. Enumerable.Range(0, offsets[^1]).Select(_ => rng.Next(2))];
        return (ids, types, offsets);
    }
}
