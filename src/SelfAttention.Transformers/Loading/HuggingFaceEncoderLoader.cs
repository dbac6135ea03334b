using System.Globalization;
using System.Text.Json;
using SelfAttention.IO;

namespace SelfAttention.Transformers;

/// <summary>
/// Reads and writes a BERT-style encoder as a Hugging Face model folder: <c>config.json</c> (the <c>BertConfig</c>
/// fields <c>hidden_size</c>, <c>num_attention_heads</c>, <c>num_hidden_layers</c>, <c>intermediate_size</c>,
/// <c>hidden_act</c>, <c>layer_norm_eps</c>, <c>max_position_embeddings</c>, <c>type_vocab_size</c>, <c>vocab_size</c>)
/// and <c>model.safetensors</c> with PyTorch's names (<c>embeddings.word_embeddings.weight</c>,
/// <c>encoder.layer.i.attention.self.query.weight</c>, …, optionally under a <c>bert.</c> prefix). PyTorch stores a
/// linear layer's weight <c>[out, in]</c>; the loader transposes it to the library's <c>[in, out]</c>, and
/// <see cref="Save"/> transposes back, so a folder written here loads in <c>transformers</c> too.
/// </summary>
public static class HuggingFaceEncoderLoader
{
    /// <summary>The largest <c>config.json</c> read.</summary>
    public const long MaxConfigBytes = 1L << 20;

    /// <summary>Reads the encoder in <paramref name="folder"/>.</summary>
    /// <param name="folder">A folder holding <c>config.json</c> and <c>model.safetensors</c>.</param>
    /// <returns>The weights, ready for <see cref="TransformerEncoder"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="folder"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">The folder or one of the two files does not exist.</exception>
    /// <exception cref="ModelFormatException">A file is malformed, or describes a model other than a BERT encoder.</exception>
    public static EncoderWeights Load(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder)) throw new FileNotFoundException($"{folder}: no such folder (expected a Hugging Face model folder).", folder);
        string configPath = Path.Combine(folder, "config.json"), weightsPath = Path.Combine(folder, "model.safetensors");
        foreach (string file in (ReadOnlySpan<string>)[configPath, weightsPath])
        {
            if (!File.Exists(file)) throw new FileNotFoundException($"{file}: no such file (a Hugging Face model folder holds config.json and model.safetensors, or model.onnx).", file);
        }

        Config config = ReadConfig(configPath);
        (IReadOnlyDictionary<string, SafeTensor> tensors, _) = SafeTensors.Read(weightsPath);
        string prefix = tensors.ContainsKey("bert.embeddings.word_embeddings.weight") ? "bert." : "";
        int d = config.Hidden, f = config.Intermediate;

        float[] Tensor(string name, params int[] shape)
        {
            if (!tensors.TryGetValue(prefix + name, out SafeTensor? t))
            {
                throw new ModelFormatException(weightsPath, $"no tensor named {prefix + name}.");
            }

            if (!t.Shape.AsSpan().SequenceEqual(shape))
            {
                throw new ModelFormatException(weightsPath, $"tensor {prefix + name} has shape [{string.Join(", ", t.Shape)}]; config.json implies [{string.Join(", ", shape)}].");
            }

            return t.Values;
        }

        // A PyTorch linear weight [out, in], transposed to [in, out].
        float[] Dense(string name, int inFeatures, int outFeatures) => Transpose(Tensor(name, outFeatures, inFeatures), outFeatures, inFeatures);

        var embeddings = new EmbeddingWeights
        {
            Words = Tensor("embeddings.word_embeddings.weight", config.Vocabulary, d),
            Positions = Tensor("embeddings.position_embeddings.weight", config.Positions, d),
            TokenTypes = config.TokenTypes == 0 ? [] : Tensor("embeddings.token_type_embeddings.weight", config.TokenTypes, d),
            NormGamma = Tensor("embeddings.LayerNorm.weight", d),
            NormBeta = Tensor("embeddings.LayerNorm.bias", d),
        };
        var layers = new EncoderLayerWeights[config.Layers];
        for (int i = 0; i < layers.Length; i++)
        {
            string p = string.Create(CultureInfo.InvariantCulture, $"encoder.layer.{i}.");
            layers[i] = new EncoderLayerWeights
            {
                QueryWeights = Dense(p + "attention.self.query.weight", d, d),
                QueryBias = Tensor(p + "attention.self.query.bias", d),
                KeyWeights = Dense(p + "attention.self.key.weight", d, d),
                KeyBias = Tensor(p + "attention.self.key.bias", d),
                ValueWeights = Dense(p + "attention.self.value.weight", d, d),
                ValueBias = Tensor(p + "attention.self.value.bias", d),
                OutputWeights = Dense(p + "attention.output.dense.weight", d, d),
                OutputBias = Tensor(p + "attention.output.dense.bias", d),
                AttentionNormGamma = Tensor(p + "attention.output.LayerNorm.weight", d),
                AttentionNormBeta = Tensor(p + "attention.output.LayerNorm.bias", d),
                FeedForwardUpWeights = Dense(p + "intermediate.dense.weight", d, f),
                FeedForwardUpBias = Tensor(p + "intermediate.dense.bias", f),
                FeedForwardDownWeights = Dense(p + "output.dense.weight", f, d),
                FeedForwardDownBias = Tensor(p + "output.dense.bias", d),
                FeedForwardNormGamma = Tensor(p + "output.LayerNorm.weight", d),
                FeedForwardNormBeta = Tensor(p + "output.LayerNorm.bias", d),
            };
        }

        return new EncoderWeights
        {
            Embeddings = embeddings,
            Layers = layers,
            LayerOptions = new EncoderLayerOptions { Heads = config.Heads, LayerNormEpsilon = config.Epsilon, FeedForwardActivation = config.Activation },
        };
    }

    /// <summary>
    /// Writes <paramref name="weights"/> to <paramref name="folder"/> as <c>config.json</c> and <c>model.safetensors</c>
    /// (created if missing; existing files of those names are replaced, each only once it is completely written).
    /// </summary>
    /// <param name="weights">A post-LN BERT encoder's weights (GELU, erf or tanh form).</param>
    /// <param name="folder">The folder.</param>
    /// <exception cref="ArgumentException">The weights are not a valid encoder (as <see cref="TransformerEncoder"/> checks), use pre-LN or another activation, or the folder name is empty.</exception>
    /// <exception cref="IOException">A file cannot be written.</exception>
    public static void Save(EncoderWeights weights, string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var encoder = new TransformerEncoder(weights);
        EncoderLayerOptions options = weights.LayerOptions;
        if (options.Placement != NormPlacement.PostLayerNorm || options.IsCausal
            || options.FeedForwardActivation is not (LinearActivation.Gelu or LinearActivation.GeluTanh))
        {
            throw new ArgumentException($"weights.LayerOptions: expected a BERT encoder (post-LN, not causal, GELU), which is what config.json can describe, actual {options.Placement}{(options.IsCausal ? ", causal" : "")}, {options.FeedForwardActivation}.", nameof(weights));
        }

        int d = encoder.ModelDim, f = encoder.Layers[0].FeedForwardDim;
        var tensors = new Dictionary<string, SafeTensor>(StringComparer.Ordinal);
        void Add(string name, float[] values, params int[] shape) => tensors[name] = new SafeTensor(shape, values);
        void AddDense(string name, float[] values, int inFeatures, int outFeatures) => Add(name, Transpose(values, inFeatures, outFeatures), outFeatures, inFeatures);

        EmbeddingWeights e = weights.Embeddings;
        Add("embeddings.word_embeddings.weight", e.Words, encoder.Embeddings.VocabularySize, d);
        Add("embeddings.position_embeddings.weight", e.Positions, encoder.Embeddings.MaxPositions, d);
        if (encoder.Embeddings.TokenTypeCount != 0) Add("embeddings.token_type_embeddings.weight", e.TokenTypes, encoder.Embeddings.TokenTypeCount, d);
        Add("embeddings.LayerNorm.weight", e.NormGamma, d);
        Add("embeddings.LayerNorm.bias", e.NormBeta, d);
        for (int i = 0; i < weights.Layers.Count; i++)
        {
            EncoderLayerWeights l = weights.Layers[i];
            string p = string.Create(CultureInfo.InvariantCulture, $"encoder.layer.{i}.");
            AddDense(p + "attention.self.query.weight", l.QueryWeights, d, d);
            Add(p + "attention.self.query.bias", l.QueryBias, d);
            AddDense(p + "attention.self.key.weight", l.KeyWeights, d, d);
            Add(p + "attention.self.key.bias", l.KeyBias, d);
            AddDense(p + "attention.self.value.weight", l.ValueWeights, d, d);
            Add(p + "attention.self.value.bias", l.ValueBias, d);
            AddDense(p + "attention.output.dense.weight", l.OutputWeights, d, d);
            Add(p + "attention.output.dense.bias", l.OutputBias, d);
            Add(p + "attention.output.LayerNorm.weight", l.AttentionNormGamma, d);
            Add(p + "attention.output.LayerNorm.bias", l.AttentionNormBeta, d);
            AddDense(p + "intermediate.dense.weight", l.FeedForwardUpWeights, d, f);
            Add(p + "intermediate.dense.bias", l.FeedForwardUpBias, f);
            AddDense(p + "output.dense.weight", l.FeedForwardDownWeights, f, d);
            Add(p + "output.dense.bias", l.FeedForwardDownBias, d);
            Add(p + "output.LayerNorm.weight", l.FeedForwardNormGamma, d);
            Add(p + "output.LayerNorm.bias", l.FeedForwardNormBeta, d);
        }

        Directory.CreateDirectory(folder);
        SafeTensors.Write(Path.Combine(folder, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });

        AtomicFile.Write(Path.Combine(folder, "config.json"), stream =>
        {
            using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            json.WriteStartObject();
            json.WriteStartArray("architectures");
            json.WriteStringValue("BertModel");
            json.WriteEndArray();
            json.WriteString("model_type", "bert");
            json.WriteNumber("hidden_size", d);
            json.WriteNumber("num_attention_heads", options.Heads);
            json.WriteNumber("num_hidden_layers", weights.Layers.Count);
            json.WriteNumber("intermediate_size", f);
            json.WriteString("hidden_act", options.FeedForwardActivation == LinearActivation.Gelu ? "gelu" : "gelu_new");
            json.WriteNumber("layer_norm_eps", options.LayerNormEpsilon);
            json.WriteNumber("max_position_embeddings", encoder.Embeddings.MaxPositions);
            json.WriteNumber("type_vocab_size", encoder.Embeddings.TokenTypeCount);
            json.WriteNumber("vocab_size", encoder.Embeddings.VocabularySize);
            json.WriteEndObject();
        });
    }

    private sealed record Config(int Hidden, int Heads, int Layers, int Intermediate, LinearActivation Activation, float Epsilon, int Positions, int TokenTypes, int Vocabulary);

    private static Config ReadConfig(string path)
    {
        if (new FileInfo(path).Length > MaxConfigBytes)
        {
            throw new ModelFormatException(path, string.Create(CultureInfo.InvariantCulture, $"the file is larger than {MaxConfigBytes} bytes; a config.json is a few hundred."));
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 16, CommentHandling = JsonCommentHandling.Skip });
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new ModelFormatException(path, "not a JSON object.");
            if (root.TryGetProperty("model_type", out JsonElement type) && type.ValueKind == JsonValueKind.String && type.GetString() is not ("bert" or null))
            {
                throw new ModelFormatException(path, $"model_type is \"{type.GetString()}\"; this loader reads BERT encoders (\"bert\").");
            }

            int Int(string name, int min, int? fallback = null)
            {
                if (!root.TryGetProperty(name, out JsonElement value))
                {
                    return fallback ?? throw new ModelFormatException(path, $"no {name}.");
                }

                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int n) || n < min)
                {
                    throw new ModelFormatException(path, string.Create(CultureInfo.InvariantCulture, $"{name} is {value.GetRawText()}; expected an integer ≥ {min}."));
                }

                return n;
            }

            int hidden = Int("hidden_size", 1), heads = Int("num_attention_heads", 1);
            if (hidden % heads != 0)
            {
                throw new ModelFormatException(path, string.Create(CultureInfo.InvariantCulture, $"num_attention_heads {heads} does not divide hidden_size {hidden}."));
            }

            string act = root.TryGetProperty("hidden_act", out JsonElement a) && a.ValueKind == JsonValueKind.String ? a.GetString()! : "gelu";
            LinearActivation activation = act switch
            {
                "gelu" => LinearActivation.Gelu,
                "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => LinearActivation.GeluTanh,
                "relu" => LinearActivation.Relu,
                "silu" or "swish" => LinearActivation.Silu,
                _ => throw new ModelFormatException(path, $"hidden_act is \"{act}\"; expected gelu, gelu_new, gelu_pytorch_tanh, relu or silu."),
            };

            float epsilon = 1e-12f;
            if (root.TryGetProperty("layer_norm_eps", out JsonElement eps))
            {
                if (eps.ValueKind != JsonValueKind.Number || !float.IsFinite(eps.GetSingle()) || eps.GetSingle() < 0)
                {
                    throw new ModelFormatException(path, $"layer_norm_eps is {eps.GetRawText()}; expected a finite number ≥ 0.");
                }

                epsilon = eps.GetSingle();
            }

            return new Config(hidden, heads, Int("num_hidden_layers", 1), Int("intermediate_size", 1), activation, epsilon,
                              Int("max_position_embeddings", 1), Int("type_vocab_size", 0, 2), Int("vocab_size", 1));
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, $"not valid JSON ({e.Message}).", e);
        }
    }

    // [rows, columns] → [columns, rows].
    private static float[] Transpose(float[] values, int rows, int columns)
    {
        var result = new float[values.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                result[(long)c * rows + r] = values[(long)r * columns + c];
            }
        }

        return result;
    }
}
