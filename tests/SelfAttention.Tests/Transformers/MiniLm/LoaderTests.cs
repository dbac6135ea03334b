using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using Onnx;
using SelfAttention.Transformers;
using Xunit;

namespace SelfAttention.Tests.Transformers.MiniLm;

/// <summary>
/// The weight loaders on the real model and on broken files: the ONNX reader against the file ONNX Runtime runs, a
/// round trip through a Hugging Face folder (safetensors + config.json) that gives back the same weights and the same
/// embeddings bit for bit, and for each kind of damage one <see cref="ModelFormatException"/> that names the file.
/// </summary>
[Collection(MiniLmCollection.Name)]
public sealed class LoaderTests(MiniLmModel model) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("selfattention-loader-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void AHuggingFaceFolderRoundTripsTheWeightsBitForBit()
    {
        string hf = Path.Combine(_folder, "hf");
        HuggingFaceEncoderLoader.Save(model.Weights, hf);
        EncoderWeights back = HuggingFaceEncoderLoader.Load(hf);
        Assert.Equal(model.Weights.LayerOptions, back.LayerOptions);
        Assert.Equal(model.Weights.Embeddings.Words, back.Embeddings.Words);
        Assert.Equal(model.Weights.Embeddings.Positions, back.Embeddings.Positions);
        Assert.Equal(model.Weights.Embeddings.TokenTypes, back.Embeddings.TokenTypes);
        Assert.Equal(model.Weights.Layers.Count, back.Layers.Count);
        for (int i = 0; i < back.Layers.Count; i++)
        {
            EncoderLayerWeights a = model.Weights.Layers[i], b = back.Layers[i];
            Assert.Equal(a.QueryWeights, b.QueryWeights);
            Assert.Equal(a.KeyBias, b.KeyBias);
            Assert.Equal(a.ValueWeights, b.ValueWeights);
            Assert.Equal(a.OutputWeights, b.OutputWeights);
            Assert.Equal(a.FeedForwardUpWeights, b.FeedForwardUpWeights);
            Assert.Equal(a.FeedForwardDownWeights, b.FeedForwardDownWeights);
            Assert.Equal(a.FeedForwardNormGamma, b.FeedForwardNormGamma);
        }

        // The folder as SentenceEmbedder.Load reads it, with the vocabulary beside: the same embeddings bit for bit.
        File.Copy(MiniLmModel.VocabularyPath, Path.Combine(hf, "vocab.txt"));
        SentenceEmbedder loaded = SentenceEmbedder.Load(hf);
        Assert.Equal(model.Embedder.Embed("The cat sat on the mat."), loaded.Embed("The cat sat on the mat."));
    }

    [Fact]
    public void SafetensorsNamesTheLinearWeightsInPyTorchsLayout()
    {
        string hf = Path.Combine(_folder, "layout");
        HuggingFaceEncoderLoader.Save(model.Weights, hf);
        (IReadOnlyDictionary<string, SafeTensor> tensors, IReadOnlyDictionary<string, string> metadata) = SafeTensors.Read(Path.Combine(hf, "model.safetensors"));
        Assert.Equal("pt", metadata["format"]);
        SafeTensor up = tensors["encoder.layer.0.intermediate.dense.weight"];
        Assert.Equal([1536, 384], up.Shape);
        // PyTorch's [out, in]: element (o, i) is the library's [in, out] element (i, o).
        Assert.Equal(model.Weights.Layers[0].FeedForwardUpWeights[7 * 1536 + 5], up.Values[5 * 384 + 7]);
        Assert.Equal(16 * 6 + 5, tensors.Count);
    }

    [Fact]
    public void SentenceEmbedderLoadsTheOnnxFileOrItsFolder()
    {
        float[] expected = model.Embedder.Embed("Hello world!");
        Assert.Equal(expected, SentenceEmbedder.Load(MiniLmModel.OnnxPath).Embed("Hello world!"));
        Assert.Equal(expected, SentenceEmbedder.Load(MiniLmModel.Folder).Embed("Hello world!"));
        Assert.Throws<FileNotFoundException>(() => SentenceEmbedder.Load(Path.Combine(_folder, "nothing-here")));
        string lonely = Path.Combine(_folder, "model.onnx");
        File.Copy(MiniLmModel.OnnxPath, lonely);
        Assert.Contains("vocab.txt", Assert.Throws<FileNotFoundException>(() => SentenceEmbedder.Load(lonely)).Message);
    }

    [Fact]
    public void AnExportOfATaskModelLoadsUnderItsBertPrefix()
    {
        // BertForSequenceClassification and friends export the same weights as bert.embeddings…, bert.encoder….
        ModelProto proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(MiniLmModel.OnnxPath));
        foreach (TensorProto t in proto.Graph.Initializer)
        {
            if (t.Name.StartsWith("embeddings.", StringComparison.Ordinal) || t.Name.StartsWith("encoder.", StringComparison.Ordinal))
            {
                string renamed = "bert." + t.Name;
                foreach (NodeProto node in proto.Graph.Node)
                {
                    for (int i = 0; i < node.Input.Count; i++)
                    {
                        if (node.Input[i] == t.Name) node.Input[i] = renamed;
                    }
                }

                t.Name = renamed;
            }
        }

        string path = Path.Combine(_folder, "prefixed.onnx");
        File.WriteAllBytes(path, proto.ToByteArray());
        EncoderWeights prefixed = OnnxEncoderLoader.Load(path);
        Assert.Equal(model.Weights.LayerOptions, prefixed.LayerOptions);
        Assert.Equal(model.Weights.Embeddings.Words, prefixed.Embeddings.Words);
        Assert.Equal(model.Weights.Layers[5].FeedForwardDownWeights, prefixed.Layers[5].FeedForwardDownWeights);
        Assert.Equal(model.Weights.Layers[0].QueryWeights, prefixed.Layers[0].QueryWeights);
    }

    public static TheoryData<string, string> BrokenOnnx => new()
    {
        { "empty", "no graph" },
        { "random", "not an ONNX model" },
        { "truncated", "not an ONNX model" },
        { "missing-bias", "encoder.layer.3.output.dense.bias" },
        { "short-raw-data", "embeddings.LayerNorm.bias" },
        { "float16", "element type 10" },
        { "external", "external data" },
        { "no-matmul", "MatMul" },
    };

    [Theory]
    [MemberData(nameof(BrokenOnnx))]
    public void ABrokenOnnxFileIsOneClearError(string damage, string expected)
    {
        string path = Path.Combine(_folder, damage + ".onnx");
        byte[] original = File.ReadAllBytes(MiniLmModel.OnnxPath);
        switch (damage)
        {
            case "empty":
                File.WriteAllBytes(path, []);
                break;
            case "random":
                File.WriteAllBytes(path, [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919 >> 3))]);
                break;
            case "truncated":
                File.WriteAllBytes(path, original[..(original.Length / 3)]);
                break;
            default:
                ModelProto proto = ModelProto.Parser.ParseFrom(original);
                Damage(proto.Graph, damage);
                File.WriteAllBytes(path, proto.ToByteArray());
                break;
        }

        var e = Assert.Throws<ModelFormatException>(() => OnnxEncoderLoader.Load(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.Equal(path, e.FilePath);
        Assert.DoesNotContain('\n', e.Message);
    }

    private static void Damage(GraphProto graph, string damage)
    {
        TensorProto Named(string name) => graph.Initializer.Single(t => t.Name == name);
        switch (damage)
        {
            case "missing-bias":
                graph.Initializer.Remove(Named("encoder.layer.3.output.dense.bias"));
                break;
            case "short-raw-data":
                Named("embeddings.LayerNorm.bias").RawData = ByteString.CopyFrom(new byte[100]);
                break;
            case "float16":
                Named("embeddings.LayerNorm.weight").DataType = (int)TensorProto.Types.DataType.Float16;
                break;
            case "external":
                TensorProto t = Named("embeddings.word_embeddings.weight");
                t.DataLocation = TensorProto.Types.DataLocation.External;
                t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
                break;
            case "no-matmul":
                NodeProto add = graph.Node.First(n => n.OpType == "Add" && n.Input.Contains("encoder.layer.0.attention.self.key.bias"));
                add.Input[add.Input.IndexOf("encoder.layer.0.attention.self.key.bias") == 0 ? 1 : 0] = "input_ids";
                break;
        }
    }

    public static TheoryData<string, string> BrokenSafetensors => new()
    {
        { "too-short", "8-byte header length" },
        { "huge-header", "the header claims" },
        { "bad-json", "not valid JSON" },
        { "bad-dtype", "dtype I64" },
        { "out-of-range", "data_offsets" },
        { "overlap", "share bytes" },
        { "negative-dim", "shape entry" },
    };

    [Theory]
    [MemberData(nameof(BrokenSafetensors))]
    public void ABrokenSafetensorsFileIsOneClearError(string damage, string expected)
    {
        string path = Path.Combine(_folder, damage + ".safetensors");
        string header = damage switch
        {
            "bad-json" => "{\"a\": {\"dtype\": ",
            "bad-dtype" => "{\"a\": {\"dtype\": \"I64\", \"shape\": [2], \"data_offsets\": [0, 16]}}",
            "out-of-range" => "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}",
            "overlap" => "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}",
            "negative-dim" => "{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 8]}}",
            _ => "{}",
        };
        byte[] json = Encoding.UTF8.GetBytes(header);
        var file = new byte[8 + json.Length + 8];
        BinaryPrimitives.WriteUInt64LittleEndian(file, damage == "huge-header" ? ulong.MaxValue / 2 : (ulong)json.Length);
        json.CopyTo(file, 8);
        File.WriteAllBytes(path, damage == "too-short" ? file[..5] : file);
        var e = Assert.Throws<ModelFormatException>(() => SafeTensors.Read(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void SafetensorsRoundTripsAndWidensHalfAndBFloat16()
    {
        string path = Path.Combine(_folder, "small.safetensors");
        var tensors = new Dictionary<string, SafeTensor>
        {
            ["b"] = new([2, 3], [1, -2, 3.5f, float.MaxValue, float.Epsilon, -0f]),
            ["a"] = new([], [42]),
            ["empty"] = new([0, 4], []),
        };
        SafeTensors.Write(path, tensors, new Dictionary<string, string> { ["k"] = "v" });
        (IReadOnlyDictionary<string, SafeTensor> back, IReadOnlyDictionary<string, string> metadata) = SafeTensors.Read(path);
        Assert.Equal("v", metadata["k"]);
        foreach ((string name, SafeTensor t) in tensors)
        {
            Assert.Equal(t.Shape, back[name].Shape);
            Assert.Equal(t.Values, back[name].Values);
        }

        Assert.Equal(0, (8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(path))) % 8);
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp", SearchOption.AllDirectories));

        // F16 1.5 = 0x3E00 and BF16 −2 = 0xC000, little-endian.
        byte[] json = Encoding.UTF8.GetBytes("{\"h\": {\"dtype\": \"F16\", \"shape\": [1], \"data_offsets\": [0, 2]}, \"g\": {\"dtype\": \"BF16\", \"shape\": [1], \"data_offsets\": [2, 4]}}");
        var file = new byte[8 + json.Length + 4];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
        json.CopyTo(file, 8);
        file[8 + json.Length + 1] = 0x3E;
        file[8 + json.Length + 3] = 0xC0;
        File.WriteAllBytes(path, file);
        (back, _) = SafeTensors.Read(path);
        Assert.Equal([1.5f], back["h"].Values);
        Assert.Equal([-2f], back["g"].Values);
    }

    [Fact]
    public void ABrokenConfigIsOneClearError()
    {
        string hf = Path.Combine(_folder, "config");
        HuggingFaceEncoderLoader.Save(model.Weights, hf);
        string config = Path.Combine(hf, "config.json");
        string good = File.ReadAllText(config);
        foreach ((string text, string expected) in new[]
        {
            (good.Replace("\"num_attention_heads\": 12", "\"num_attention_heads\": 7"), "does not divide"),
            (good.Replace("\"hidden_act\": \"gelu\"", "\"hidden_act\": \"mish\""), "hidden_act"),
            (good.Replace("\"model_type\": \"bert\"", "\"model_type\": \"gpt2\""), "gpt2"),
            (good.Replace("\"num_hidden_layers\": 6", "\"num_hidden_layers\": 7"), "encoder.layer.6"),
            (good.Replace("\"hidden_size\": 384", "\"hidden_size\": 96"), "shape"),
            ("[1, 2]", "not a JSON object"),
            ("{", "not valid JSON"),
        })
        {
            File.WriteAllText(config, text);
            var e = Assert.Throws<ModelFormatException>(() => HuggingFaceEncoderLoader.Load(hf));
            Assert.Contains(expected, e.Message);
        }
    }
}
