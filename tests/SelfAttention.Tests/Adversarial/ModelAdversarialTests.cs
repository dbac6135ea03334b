using SelfAttention.Transformers;
using SelfAttention.Transformers.Reference;
using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// Hostile calls to the model layer: the embeddings, the packed encoder layer and stack, pooling, the sentence
/// embedder, the tokenizer and the loaders' arguments (bad files are LoaderTests' and TokenizerTests' part). Each is
/// rejected with an <see cref="ArgumentException"/> naming the parameter before anything is written. The model is
/// tiny and random: vocabulary 8, 4 positions, width 8, 2 heads.
/// </summary>
public class ModelAdversarialTests
{
    internal static BadCallTable Table { get; } = Build();

    public static TheoryData<string> Names => Table.Names();

    [Theory]
    [MemberData(nameof(Names))]
    public void BadCall_IsRejectedBeforeAnythingIsWritten(string name) => Table.Run(name);

    private static float[] S(int n) => BadCall.Sentinels(n);

    private static BadCallTable Build()
    {
        var table = new BadCallTable();
        EncoderWeights weights = EncoderWeights.CreateRandom(8, 4, 8, 2, 16, 2, 1);
        var encoder = new TransformerEncoder(weights);
        TokenEmbeddings embeddings = encoder.Embeddings;
        EncoderLayer layer = encoder.Layers[0];

        // Embeddings and the encoder share the token checks: both run each case.
        foreach (bool stack in new[] { false, true })
        {
            string target = stack ? Api.TransformerEncoderForward : Api.TokenEmbeddingsForward, prefix = stack ? "TransformerEncoder.Forward" : "TokenEmbeddings.Forward";
            void Case(string what, string parameter, string[] quotes, int[] ids, int[] types, int[] offsets, int outputLength)
            {
                table.Add($"{prefix}: {what}", () =>
                {
                    float[] output = S(outputLength);
                    return new BadCall
                    {
                        Target = target, Parameter = parameter, Quotes = quotes, Watched = [output],
                        Call = () =>
                        {
                            if (stack) encoder.Forward(ids, types, offsets, output);
                            else embeddings.Forward(ids, types, offsets, output);
                        },
                    };
                });
            }

            Case("an id past the vocabulary", "tokenIds", ["8"], [1, 8], [], [0, 2], 16);
            Case("a negative id", "tokenIds", ["-1"], [-1, 2], [], [0, 2], 16);
            Case("a token type past the table", "tokenTypeIds", ["2"], [1, 2], [0, 2], [0, 2], 16);
            Case("token types one short", "tokenTypeIds", ["2", "1"], [1, 2], [0], [0, 2], 16);
            Case("a sequence longer than the positions", "sequenceOffsets", ["5", "4"], [1, 2, 3, 4, 5], [], [0, 5], 40);
            Case("offsets not starting at 0", "sequenceOffsets", ["0", "1"], [1, 2], [], [1, 2], 16);
            Case("offsets decreasing", "sequenceOffsets", ["2", "1"], [1, 2, 3], [], [0, 2, 1, 3], 24);
            Case("offsets not ending at the token count", "sequenceOffsets", ["3", "2"], [1, 2, 3], [], [0, 2], 24);
            Case("a single offset", "sequenceOffsets", ["1"], [], [], [0], 0);
            Case("output one short", stack ? "hidden" : "output", ["16", "15"], [1, 2], [], [0, 2], 15);
        }

        table.Add("NaiveTransformerEncoder: an id past the vocabulary", () => new BadCall { Target = Api.NaiveTransformerEncoderForward, Parameter = "tokenIds", Quotes = ["8"], Call = () => NaiveTransformerEncoder.Forward(weights, [1, 8], [], [0, 2], new double[16]) });
        table.Add("NaiveTransformerEncoder: hidden one short", () => new BadCall { Target = Api.NaiveTransformerEncoderForward, Parameter = "hidden", Quotes = ["16", "15"], Call = () => NaiveTransformerEncoder.Forward(weights, [1, 2], [], [0, 2], new double[15]) });
        table.Add("TransformerEncoder.Forward: degree -2", () => { float[] h = S(16); return new BadCall { Target = Api.TransformerEncoderForward, Parameter = "maxDegreeOfParallelism", Quotes = ["-2"], Watched = [h], Call = () => encoder.Forward([1, 2], [], [0, 2], h, -2) }; });
        table.Add("TransformerEncoder.Forward: layer count past the stack", () => { float[] h = S(16); return new BadCall { Target = Api.TransformerEncoderForwardLayers, Parameter = "layerCount", Quotes = ["3"], Watched = [h], Call = () => encoder.Forward([1, 2], [], [0, 2], h, 3, 1) }; });
        table.Add("TransformerEncoder.Forward: layer count negative", () => { float[] h = S(16); return new BadCall { Target = Api.TransformerEncoderForwardLayers, Parameter = "layerCount", Quotes = ["-1"], Watched = [h], Call = () => encoder.Forward([1, 2], [], [0, 2], h, -1, 1) }; });
        table.Add("TransformerEncoder.AttentionWeights: layer past the stack", () => { float[] w = S(8); return new BadCall { Target = Api.TransformerEncoderAttentionWeights, Parameter = "layer", Quotes = ["2"], Watched = [w], Call = () => encoder.AttentionWeights([1, 2], 2, w) }; });
        table.Add("TransformerEncoder.AttentionWeights: weights one short", () => { float[] w = S(7); return new BadCall { Target = Api.TransformerEncoderAttentionWeights, Parameter = "weights", Quotes = ["8", "7"], Watched = [w], Call = () => encoder.AttentionWeights([1, 2], 0, w) }; });
        table.Add("TransformerEncoder: weights null", () => new BadCall { Target = Api.TransformerEncoderCtor, Parameter = "weights", ExpectedVersusActual = true, Call = () => _ = new TransformerEncoder(null!) });
        table.Add("TransformerEncoder: no layers", () => new BadCall { Target = Api.TransformerEncoderCtor, Parameter = "weights", Call = () => _ = new TransformerEncoder(weights with { Layers = [] }) });
        table.Add("TransformerEncoder: a layer of another width", () => new BadCall
        {
            Target = Api.TransformerEncoderCtor, Parameter = "weights", Quotes = ["8", "4"],
            Call = () => _ = new TransformerEncoder(weights with { Layers = [EncoderLayerWeights.CreateRandom(4, 8, 2)], LayerOptions = weights.LayerOptions with { Heads = 1 } }),
        });
        table.Add("TokenEmbeddings: positions not whole rows", () => new BadCall { Target = Api.TokenEmbeddingsCtor, Parameter = "weights", Quotes = ["8", "31"], Call = () => _ = new TokenEmbeddings(weights.Embeddings with { Positions = new float[31] }) });
        table.Add("TokenEmbeddings: empty words", () => new BadCall { Target = Api.TokenEmbeddingsCtor, Parameter = "weights", Quotes = ["0"], Call = () => _ = new TokenEmbeddings(weights.Embeddings with { Words = [] }) });
        table.Add("TokenEmbeddings: beta one short", () => new BadCall { Target = Api.TokenEmbeddingsCtor, Parameter = "weights", Call = () => _ = new TokenEmbeddings(weights.Embeddings with { NormBeta = new float[7] }) });
        table.Add("TokenEmbeddings: epsilon NaN", () => new BadCall { Target = Api.TokenEmbeddingsCtor, Parameter = "layerNormEpsilon", Call = () => _ = new TokenEmbeddings(weights.Embeddings, float.NaN) });
        table.Add("EmbeddingWeights.CreateRandom: vocabulary 0", () => new BadCall { Target = Api.EmbeddingWeightsCreateRandom, Parameter = "vocabularySize", Quotes = ["0"], Call = () => EmbeddingWeights.CreateRandom(0, 4, 2, 8, 1) });
        table.Add("EmbeddingWeights.CreateRandom: tables past Array.MaxLength", () => new BadCall { Target = Api.EmbeddingWeightsCreateRandom, Parameter = "vocabularySize", Call = () => EmbeddingWeights.CreateRandom(int.MaxValue, 4, 2, 8, 1) });
        table.Add("EncoderWeights.CreateRandom: layers 0", () => new BadCall { Target = Api.EncoderWeightsCreateRandom, Parameter = "layers", Quotes = ["0"], Call = () => EncoderWeights.CreateRandom(8, 4, 8, 2, 16, 0, 1) });

        // The packed layer and its reference.
        foreach (bool naive in new[] { false, true })
        {
            string target = naive ? Api.NaiveEncoderLayerForwardPacked : Api.EncoderLayerForwardPacked, prefix = naive ? "NaiveEncoderLayer (packed)" : "EncoderLayer.Forward (packed)";
            void Case(string what, string parameter, string[] quotes, int inputLength, int outputLength, int[] offsets)
            {
                table.Add($"{prefix}: {what}", () =>
                {
                    float[] x = S(inputLength), y = S(outputLength);
                    return new BadCall
                    {
                        Target = target, Parameter = parameter, Quotes = quotes, Watched = [x, y],
                        Call = () =>
                        {
                            if (naive) NaiveEncoderLayer.Forward(weights.Layers[0], weights.LayerOptions, x, new double[outputLength], offsets);
                            else layer.Forward(x, y, offsets);
                        },
                    };
                });
            }

            Case("input not whole rows", "input", ["8", "15"], 15, 15, [0, 1]);
            Case("offsets past the rows", "sequenceOffsets", ["2", "3"], 16, 16, [0, 3]);
            Case("offsets decreasing", "sequenceOffsets", ["1", "0"], 16, 16, [0, 1, 0, 2]);
            Case("no offsets", "sequenceOffsets", ["0"], 16, 16, []);
            Case("output one short", "output", ["16", "15"], 16, 15, [0, 2]);
        }

        table.Add("EncoderLayer.Forward (packed): degree -2", () => { float[] x = S(16), y = S(16); return new BadCall { Target = Api.EncoderLayerForwardPacked, Parameter = "maxDegreeOfParallelism", Quotes = ["-2"], Watched = [x, y], Call = () => layer.Forward(x, y, [0, 2], -2) }; });
        table.Add("EncoderLayer.Forward (packed): output one element ahead of the input", () =>
        {
            float[] buffer = S(17);
            return new BadCall { Target = Api.EncoderLayerForwardPacked, Parameter = "output", Watched = [buffer], Call = () => layer.Forward(buffer.AsSpan(0, 16), buffer.AsSpan(1, 16), [0, 2]) };
        });
        table.Add("EncoderLayer.AttentionWeights: input not whole rows", () => { float[] x = S(12), w = S(8); return new BadCall { Target = Api.EncoderLayerAttentionWeights, Parameter = "input", Quotes = ["8", "12"], Watched = [x, w], Call = () => layer.AttentionWeights(x, w) }; });
        table.Add("EncoderLayer.AttentionWeights: weights one long", () => { float[] x = S(16), w = S(9); return new BadCall { Target = Api.EncoderLayerAttentionWeights, Parameter = "weights", Quotes = ["8", "9"], Watched = [x, w], Call = () => layer.AttentionWeights(x, w) }; });

        // Pooling.
        table.Add("Pooling.Pool: width 0", () => { float[] h = S(16), o = S(8); return new BadCall { Target = Api.PoolingPool, Parameter = "width", Quotes = ["0"], Watched = [h, o], Call = () => Pooling.Pool(h, [0, 2], 0, PoolingMode.Mean, o) }; });
        table.Add("Pooling.Pool: hidden not whole rows", () => { float[] h = S(15), o = S(8); return new BadCall { Target = Api.PoolingPool, Parameter = "hidden", Quotes = ["8", "15"], Watched = [h, o], Call = () => Pooling.Pool(h, [0, 2], 8, PoolingMode.Mean, o) }; });
        table.Add("Pooling.Pool: offsets past the rows", () => { float[] h = S(16), o = S(8); return new BadCall { Target = Api.PoolingPool, Parameter = "sequenceOffsets", Quotes = ["2", "3"], Watched = [h, o], Call = () => Pooling.Pool(h, [0, 3], 8, PoolingMode.Mean, o) }; });
        table.Add("Pooling.Pool: output one short", () => { float[] h = S(16), o = S(15); return new BadCall { Target = Api.PoolingPool, Parameter = "output", Quotes = ["16", "15"], Watched = [h, o], Call = () => Pooling.Pool(h, [0, 1, 2], 8, PoolingMode.Cls, o) }; });
        table.Add("Pooling.Pool: undefined mode", () => { float[] h = S(16), o = S(8); return new BadCall { Target = Api.PoolingPool, Parameter = "mode", Quotes = ["5"], Watched = [h, o], Call = () => Pooling.Pool(h, [0, 2], 8, (PoolingMode)5, o) }; });
        table.Add("Pooling.Pool: output over the hidden states", () => { float[] h = S(24); return new BadCall { Target = Api.PoolingPool, Parameter = "output", Watched = [h], Call = () => Pooling.Pool(h.AsSpan(0, 16), [0, 2], 8, PoolingMode.Mean, h.AsSpan(12, 8)) }; });
        table.Add("Pooling.NormalizeL2: width 0", () => { float[] r = S(8); return new BadCall { Target = Api.PoolingNormalizeL2, Parameter = "width", Quotes = ["0"], Watched = [r], Call = () => Pooling.NormalizeL2(r, 0) }; });
        table.Add("Pooling.NormalizeL2: not whole rows", () => { float[] r = S(9); return new BadCall { Target = Api.PoolingNormalizeL2, Parameter = "rows", Quotes = ["4", "9"], Watched = [r], Call = () => Pooling.NormalizeL2(r, 4) }; });

        // The tokenizer and the embedder, on a vocabulary of eight tokens.
        BertWordPieceTokenizer tokenizer = TinyVocabulary.Tokenizer;
        var embedder = new SentenceEmbedder(encoder, tokenizer);
        table.Add("BertWordPieceTokenizer.Encode: ids of one", () => new BadCall { Target = Api.WordPieceEncode, Parameter = "ids", Quotes = ["2", "1"], Call = () => tokenizer.Encode("hello", new int[1]) });
        table.Add("BertWordPieceTokenizer.Encode: null text", () => new BadCall { Target = Api.WordPieceEncode, Parameter = "text", ExpectedVersusActual = false, Call = () => tokenizer.Encode(null!, new int[4]) });
        table.Add("BertWordPieceTokenizer.TokenOf: id past the vocabulary", () => new BadCall { Target = Api.WordPieceTokenOf, Parameter = "id", Quotes = ["8"], Call = () => tokenizer.TokenOf(8) });
        table.Add("BertWordPieceTokenizer.Tokenize: maxTokens 1", () => new BadCall { Target = Api.WordPieceTokenize, Parameter = "maxTokens", Quotes = ["1"], Call = () => tokenizer.Tokenize("hello", 1) });
        table.Add("BertWordPieceTokenizer.Load: empty path", () => new BadCall { Target = Api.WordPieceLoad, Parameter = "path", ExpectedVersusActual = false, Call = () => BertWordPieceTokenizer.Load("") });
        table.Add("SentenceEmbedder: vocabularies differ", () => new BadCall
        {
            Target = Api.SentenceEmbedderCtor, Parameter = "tokenizer", Quotes = ["16", "8"],
            Call = () => _ = new SentenceEmbedder(new TransformerEncoder(EncoderWeights.CreateRandom(16, 4, 8, 2, 16, 1, 1)), tokenizer),
        });
        table.Add("SentenceEmbedder: maxTokens past the positions", () => new BadCall { Target = Api.SentenceEmbedderCtor, Parameter = "maxTokens", Quotes = ["5"], Call = () => _ = new SentenceEmbedder(encoder, tokenizer, maxTokens: 5) });
        table.Add("SentenceEmbedder: maxTokens 1", () => new BadCall { Target = Api.SentenceEmbedderCtor, Parameter = "maxTokens", Quotes = ["1"], Call = () => _ = new SentenceEmbedder(encoder, tokenizer, maxTokens: 1) });
        table.Add("SentenceEmbedder: undefined pooling", () => new BadCall { Target = Api.SentenceEmbedderCtor, Parameter = "pooling", Quotes = ["9"], Call = () => _ = new SentenceEmbedder(encoder, tokenizer, (PoolingMode)9) });
        table.Add("SentenceEmbedder: encoder null", () => new BadCall { Target = Api.SentenceEmbedderCtor, Parameter = "encoder", ExpectedVersusActual = false, Call = () => _ = new SentenceEmbedder(null!, tokenizer) });
        table.Add("SentenceEmbedder.Embed: a null sentence", () => { float[] e = S(16); return new BadCall { Target = Api.SentenceEmbedderEmbedBatch, Parameter = "sentences", Quotes = ["sentences[1]"], Watched = [e], Call = () => embedder.Embed(["hello", null!], e) }; });
        table.Add("SentenceEmbedder.Embed: embeddings one short", () => { float[] e = S(15); return new BadCall { Target = Api.SentenceEmbedderEmbedBatch, Parameter = "embeddings", Quotes = ["16", "15"], Watched = [e], Call = () => embedder.Embed(["hello", "world"], e) }; });
        table.Add("SentenceEmbedder.Embed: degree -2", () => { float[] e = S(8); return new BadCall { Target = Api.SentenceEmbedderEmbedBatch, Parameter = "maxDegreeOfParallelism", Quotes = ["-2"], Watched = [e], Call = () => embedder.Embed(["hello"], e, -2) }; });
        table.Add("SentenceEmbedder.Embed: null sentence", () => new BadCall { Target = Api.SentenceEmbedderEmbed, Parameter = "sentences", Call = () => embedder.Embed((string)null!) });
        table.Add("SentenceEmbedder.WarmUp: degree -2", () => new BadCall { Target = Api.SentenceEmbedderWarmUp, Parameter = "maxDegreeOfParallelism", Quotes = ["-2"], Call = () => embedder.WarmUp(-2) });
        table.Add("SentenceEmbedder.Load: empty path", () => new BadCall { Target = Api.SentenceEmbedderLoad, Parameter = "path", ExpectedVersusActual = false, Call = () => SentenceEmbedder.Load("") });

        // The loaders' and the writer's arguments.
        table.Add("OnnxEncoderLoader.Load: null path", () => new BadCall { Target = Api.OnnxEncoderLoaderLoad, Parameter = "path", ExpectedVersusActual = false, Call = () => OnnxEncoderLoader.Load(null!) });
        table.Add("HuggingFaceEncoderLoader.Load: empty folder name", () => new BadCall { Target = Api.HuggingFaceLoad, Parameter = "folder", ExpectedVersusActual = false, Call = () => HuggingFaceEncoderLoader.Load("") });
        table.Add("HuggingFaceEncoderLoader.Save: pre-LN weights", () => new BadCall
        {
            Target = Api.HuggingFaceSave, Parameter = "weights", Quotes = ["post-LN"],
            Call = () => HuggingFaceEncoderLoader.Save(weights with { LayerOptions = weights.LayerOptions with { Placement = NormPlacement.PreLayerNorm } }, Path.Combine(Path.GetTempPath(), "never-written")),
        });
        table.Add("HuggingFaceEncoderLoader.Save: empty folder name", () => new BadCall { Target = Api.HuggingFaceSave, Parameter = "folder", ExpectedVersusActual = false, Call = () => HuggingFaceEncoderLoader.Save(weights, "") });
        table.Add("SafeTensors.Read: empty path", () => new BadCall { Target = Api.SafeTensorsRead, Parameter = "path", ExpectedVersusActual = false, Call = () => SafeTensors.Read("") });
        table.Add("SafeTensors.Write: values one short of the shape", () => new BadCall
        {
            Target = Api.SafeTensorsWrite, Parameter = "tensors", Quotes = ["6", "5"],
            Call = () => SafeTensors.Write(Path.Combine(Path.GetTempPath(), "never-written.safetensors"), new Dictionary<string, SafeTensor> { ["a"] = new([2, 3], new float[5]) }),
        });
        table.Add("SafeTensors.Write: a negative size", () => new BadCall
        {
            Target = Api.SafeTensorsWrite, Parameter = "tensors", Quotes = ["-1"],
            Call = () => SafeTensors.Write(Path.Combine(Path.GetTempPath(), "never-written.safetensors"), new Dictionary<string, SafeTensor> { ["a"] = new([-1], []) }),
        });
        table.Add("SafeTensors.Write: the reserved name", () => new BadCall
        {
            Target = Api.SafeTensorsWrite, Parameter = "tensors", ExpectedVersusActual = false, Quotes = ["__metadata__"],
            Call = () => SafeTensors.Write(Path.Combine(Path.GetTempPath(), "never-written.safetensors"), new Dictionary<string, SafeTensor> { ["__metadata__"] = new([1], [1]) }),
        });
        return table;
    }
}

/// <summary>A BERT vocabulary of eight tokens in a temporary file, for tests that need a tokenizer but not the real model.</summary>
internal static class TinyVocabulary
{
    public static readonly BertWordPieceTokenizer Tokenizer = Create();

    private static BertWordPieceTokenizer Create()
    {
        string path = Path.Combine(Path.GetTempPath(), $"selfattention-vocab-{Environment.ProcessId}-{Guid.NewGuid():N}.txt");
        try
        {
            File.WriteAllLines(path, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s"]);
            return BertWordPieceTokenizer.Load(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
