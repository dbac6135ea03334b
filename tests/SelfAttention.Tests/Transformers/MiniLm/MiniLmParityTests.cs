using SelfAttention.Tests.Helpers;
using SelfAttention.Transformers;
using Xunit;

namespace SelfAttention.Tests.Transformers.MiniLm;

/// <summary>
/// Our encoder on the real all-MiniLM-L6-v2 against ONNX Runtime running the same file: the last hidden state of every
/// real token within 1e-5 (absolute; the states are of order 1, largest about 10) and the mean-pooled, normalised
/// sentence embeddings at cosine ≥ 0.99999 — for single sentences, a padded batch (ONNX Runtime pads and masks; we pack),
/// and 8 × 128 tokens.
/// <para>
/// Why 1e-5 holds: both run float32 with float accumulation; the differences are summation order in six layers of
/// products of length 384 and 1536 (each about k·u·Σ|xw| ≈ 1e-6 relative), GELU and exp implementations (a few ulps),
/// passed on by LayerNorms with |γ|/σ of order 1. Measured here: about 2e-6 at the worst element.
/// </para>
/// </summary>
[Collection(MiniLmCollection.Name)]
public class MiniLmParityTests(MiniLmModel model)
{
    private const double HiddenTolerance = 1e-5, CosineFloor = 0.99999;

    private static readonly string[] Sentences =
    [
        "Hello world!",
        "The cat sat on the mat.",
        "A man is playing a guitar on the street while people walk past.",
        "unaffable",
        "",
        "Héllo\twörld  naïve café, 日本語 and a😀b.",
        "Self-attention lets every token look at every other token of the sentence, weighted by learned relevance.",
        "x",
    ];

    [Fact]
    public void TheModelIsMiniLm()
    {
        Assert.Equal(384, model.Encoder.ModelDim);
        Assert.Equal(6, model.Encoder.Layers.Count);
        Assert.Equal(12, model.Encoder.Options.Heads);
        Assert.Equal(1536, model.Encoder.Layers[0].FeedForwardDim);
        Assert.Equal(512, model.Encoder.MaxSequenceLength);
        Assert.Equal(30522, model.Encoder.Embeddings.VocabularySize);
        Assert.Equal(2, model.Encoder.Embeddings.TokenTypeCount);
        Assert.Equal(1e-12f, model.Encoder.Options.LayerNormEpsilon);
        Assert.Equal(LinearActivation.Gelu, model.Encoder.Options.FeedForwardActivation);
    }

    [Fact]
    public void SingleSentencesMatchOnnxRuntime()
    {
        foreach (string sentence in Sentences)
        {
            int[] ids = Encode(sentence);
            Compare([ids], sentence);
        }
    }

    [Fact]
    public void APaddedBatchMatchesOnnxRuntimeOnItsRealTokens()
    {
        int[][] batch = [.. Sentences.Select(Encode)];
        Compare(batch, "the eight sentences as one batch");
    }

    [Fact]
    public void EightSequencesOf128TokensMatchOnnxRuntime()
    {
        var rng = new Random(TestInputs.DefaultSeed);
        int[][] batch = [.. Enumerable.Range(0, 8).Select(_ => RandomSequence(rng, 128))];
        Compare(batch, "8 × 128 random word pieces");
    }

    [Fact]
    public void SentenceEmbeddingsMatchOnnxRuntimeMeanPooled()
    {
        int d = model.Embedder.Dimension;
        var ours = new float[Sentences.Length * d];
        model.Embedder.Embed(Sentences, ours);
        int[][] batch = [.. Sentences.Select(Encode)];
        float[] reference = model.RunOnnxRuntime(batch, out int max);
        for (int s = 0; s < Sentences.Length; s++)
        {
            // sentence-transformers: the mean of the real tokens' states, then L2 normalisation.
            var expected = new double[d];
            for (int t = 0; t < batch[s].Length; t++)
            {
                for (int c = 0; c < d; c++)
                {
                    expected[c] += reference[((long)s * max + t) * d + c] / batch[s].Length;
                }
            }

            double dot = 0, a = 0, b = 0;
            for (int c = 0; c < d; c++)
            {
                dot += ours[s * d + c] * expected[c];
                a += (double)ours[s * d + c] * ours[s * d + c];
                b += expected[c] * expected[c];
            }

            double cosine = dot / Math.Sqrt(a * b);
            Assert.True(cosine >= CosineFloor, $"\"{Sentences[s]}\": cosine {cosine:R} against ONNX Runtime's mean pooling, floor {CosineFloor} ({SimdWidth.Name}).");
            Assert.InRange(Math.Sqrt(a), 1 - 1e-6, 1 + 1e-6);
        }
    }

    [Fact]
    public void RelatedSentencesAreCloserThanUnrelatedOnes()
    {
        // The model's purpose, as a sanity check on top of the parity: paraphrases score far above unrelated pairs.
        string[] sentences = ["A man is playing a guitar.", "Someone plays the guitar.", "The stock market fell sharply today."];
        int d = model.Embedder.Dimension;
        var e = new float[3 * d];
        model.Embedder.Embed(sentences, e);
        float Cosine(int i, int j) => System.Numerics.Tensors.TensorPrimitives.Dot(e.AsSpan(i * d, d), e.AsSpan(j * d, d));
        Assert.True(Cosine(0, 1) > 0.6f, $"paraphrases: {Cosine(0, 1)}");
        Assert.True(Cosine(0, 2) < 0.2f, $"unrelated: {Cosine(0, 2)}");
    }

    private int[] Encode(string sentence)
    {
        var ids = new int[512];
        int n = model.Tokenizer.Encode(sentence, ids);
        return ids[..n];
    }

    private static int[] RandomSequence(Random rng, int length)
    {
        var ids = new int[length];
        ids[0] = 101;
        ids[^1] = 102;
        for (int t = 1; t < length - 1; t++)
        {
            ids[t] = rng.Next(1000, 30522);
        }

        return ids;
    }

    private void Compare(int[][] batch, string what)
    {
        int d = model.Encoder.ModelDim;
        float[] reference = model.RunOnnxRuntime(batch, out int max);
        int[] offsets = new int[batch.Length + 1];
        for (int b = 0; b < batch.Length; b++)
        {
            offsets[b + 1] = offsets[b] + batch[b].Length;
        }

        int[] packed = [.. batch.SelectMany(s => s)];
        var hidden = new float[packed.Length * d];
        model.Encoder.Forward(packed, [], offsets, hidden);
        double worst = 0;
        for (int b = 0; b < batch.Length; b++)
        {
            for (int t = 0; t < batch[b].Length; t++)
            {
                for (int c = 0; c < d; c++)
                {
                    float ours = hidden[(offsets[b] + t) * d + c], theirs = reference[((long)b * max + t) * d + c];
                    Assert.False(float.IsNaN(ours), $"{what}: NaN at sequence {b}, token {t}, channel {c}.");
                    double error = Math.Abs(ours - theirs);
                    worst = Math.Max(worst, error);
                    Assert.True(error <= HiddenTolerance,
                        $"{what}: sequence {b}, token {t}, channel {c}: {ours:R} against ONNX Runtime's {theirs:R} ({SimdWidth.Name}).");
                }
            }
        }

        Assert.True(worst > 0 || packed.Length <= 2, $"{what}: bit-identical to ONNX Runtime, which would mean the reference ran our code.");
    }
}
