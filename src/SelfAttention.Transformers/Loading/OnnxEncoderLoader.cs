using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace SelfAttention.Transformers;

/// <summary>
/// Reads a BERT-style encoder from an ONNX file as Hugging Face's exporters write it (opset 11 and later; the
/// all-MiniLM-L6-v2 export is opset 13): the initializers and the graph's wiring, through OnnxSharp's generated ONNX
/// messages over Google.Protobuf. Nothing of the graph is executed; the loader finds each weight by its role:
/// <list type="bullet">
/// <item>named initializers (optionally under a <c>bert.</c> prefix, as exports of task models name them):
/// <c>embeddings.{word,position,token_type}_embeddings.weight</c>,
/// <c>embeddings.LayerNorm.{weight,bias}</c> and, per layer i, <c>encoder.layer.i.attention.self.{query,key,value}.bias</c>,
/// <c>encoder.layer.i.attention.output.dense.bias</c>, <c>encoder.layer.i.intermediate.dense.bias</c>,
/// <c>encoder.layer.i.output.dense.bias</c> and the two LayerNorms' weight and bias;</item>
/// <item>each dense matrix is anonymous: it is the second input of the <c>MatMul</c> whose output the <c>Add</c> of the
/// named bias takes, already <c>[in, out]</c>;</item>
/// <item>the head count is the constant of the <c>Reshape</c> that splits the query into heads; the LayerNorm epsilon
/// is the constant added to the variance (or a <c>LayerNormalization</c> node's attribute); the feed-forward
/// activation is GELU's erf form when the graph has an <c>Erf</c>, its tanh form when it has a <c>Tanh</c>.</item>
/// </list>
/// Anything else (external data, float16 weights, a missing or misshapen tensor) is a <see cref="ModelFormatException"/>
/// naming the file and the tensor.
/// </summary>
public static class OnnxEncoderLoader
{
    /// <summary>The largest file read (protobuf messages are limited to 2 GiB).</summary>
    public const long MaxFileBytes = int.MaxValue;

    /// <summary>Reads the encoder's weights and options from <paramref name="path"/>.</summary>
    /// <param name="path">An ONNX file.</param>
    /// <returns>The weights, ready for <see cref="TransformerEncoder"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is not an ONNX model, or not one this loader reads.</exception>
    public static EncoderWeights Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"{path}: no such file (expected an ONNX model).", path);
        }

        if (info.Length > MaxFileBytes)
        {
            throw new ModelFormatException(path, string.Create(CultureInfo.InvariantCulture,
                $"the file has {info.Length} bytes; an ONNX model is at most {MaxFileBytes} (2 GiB), larger ones keep their weights as external data, which this loader does not read."));
        }

        ModelProto model;
        try
        {
            // The whole file in one array: a length inside it that runs past the end is a parse error, never an
            // allocation of that length.
            model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelFormatException(path, $"not an ONNX model (protobuf: {e.Message})", e);
        }

        if (model.Graph is null || model.Graph.Node.Count == 0)
        {
            throw new ModelFormatException(path, "not an ONNX model: it has no graph.");
        }

        return new Reader(path, model.Graph).Read();
    }

    private sealed class Reader
    {
        private readonly string _path;
        private readonly GraphProto _graph;
        private readonly Dictionary<string, TensorProto> _initializers = new(StringComparer.Ordinal);
        private readonly Dictionary<string, NodeProto> _producers = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<NodeProto>> _consumers = new(StringComparer.Ordinal);

        // "bert." when the export is of a task model (BertForSequenceClassification …) rather than BertModel.
        private readonly string _prefix;

        public Reader(string path, GraphProto graph)
        {
            _path = path;
            _graph = graph;
            foreach (TensorProto t in graph.Initializer)
            {
                _initializers[t.Name] = t;
            }

            foreach (NodeProto node in graph.Node)
            {
                foreach (string output in node.Output)
                {
                    _producers[output] = node;
                }

                foreach (string input in node.Input)
                {
                    if (!_consumers.TryGetValue(input, out List<NodeProto>? list))
                    {
                        _consumers[input] = list = [];
                    }

                    list.Add(node);
                }
            }

            _prefix = _initializers.ContainsKey("bert.embeddings.word_embeddings.weight") ? "bert." : "";
        }

        public EncoderWeights Read()
        {
            float[] words = Floats(_prefix + "embeddings.word_embeddings.weight", out int[] wordDims);
            if (wordDims.Length != 2)
            {
                Fail($"{_prefix}embeddings.word_embeddings.weight has shape [{string.Join(", ", wordDims)}]; expected [vocabulary, width].");
            }

            int d = wordDims[1];
            float[] positions = Matrix(_prefix + "embeddings.position_embeddings.weight", d);
            float[] types = _initializers.ContainsKey(_prefix + "embeddings.token_type_embeddings.weight") ? Matrix(_prefix + "embeddings.token_type_embeddings.weight", d) : [];
            var embeddings = new EmbeddingWeights
            {
                Words = words,
                Positions = positions,
                TokenTypes = types,
                NormGamma = Vector(_prefix + "embeddings.LayerNorm.weight", d),
                NormBeta = Vector(_prefix + "embeddings.LayerNorm.bias", d),
            };

            var layers = new List<EncoderLayerWeights>();
            while (_initializers.ContainsKey(_prefix + $"encoder.layer.{layers.Count}.attention.self.query.bias"))
            {
                layers.Add(Layer(layers.Count, d));
            }

            if (layers.Count == 0)
            {
                Fail($"no encoder layers: expected initializers named {_prefix}encoder.layer.0.attention.self.query.bias and so on (a Hugging Face BERT export).");
            }

            int heads = Heads(d);
            var options = new EncoderLayerOptions
            {
                Heads = heads,
                LayerNormEpsilon = Epsilon(_prefix + "embeddings.LayerNorm.weight"),
                FeedForwardActivation = Activation(),
            };
            return new EncoderWeights { Embeddings = embeddings, Layers = layers, LayerOptions = options };
        }

        private EncoderLayerWeights Layer(int i, int d)
        {
            string p = _prefix + string.Create(CultureInfo.InvariantCulture, $"encoder.layer.{i}.");
            float[] up = Vector(p + "intermediate.dense.bias", -1);
            int f = up.Length;
            return new EncoderLayerWeights
            {
                QueryWeights = Dense(p + "attention.self.query.bias", d, d),
                QueryBias = Vector(p + "attention.self.query.bias", d),
                KeyWeights = Dense(p + "attention.self.key.bias", d, d),
                KeyBias = Vector(p + "attention.self.key.bias", d),
                ValueWeights = Dense(p + "attention.self.value.bias", d, d),
                ValueBias = Vector(p + "attention.self.value.bias", d),
                OutputWeights = Dense(p + "attention.output.dense.bias", d, d),
                OutputBias = Vector(p + "attention.output.dense.bias", d),
                AttentionNormGamma = Vector(p + "attention.output.LayerNorm.weight", d),
                AttentionNormBeta = Vector(p + "attention.output.LayerNorm.bias", d),
                FeedForwardUpWeights = Dense(p + "intermediate.dense.bias", d, f),
                FeedForwardUpBias = up,
                FeedForwardDownWeights = Dense(p + "output.dense.bias", f, d),
                FeedForwardDownBias = Vector(p + "output.dense.bias", d),
                FeedForwardNormGamma = Vector(p + "output.LayerNorm.weight", d),
                FeedForwardNormBeta = Vector(p + "output.LayerNorm.bias", d),
            };
        }

        // The [in, out] matrix of the MatMul whose output the Add of the named bias takes.
        private float[] Dense(string biasName, int inFeatures, int outFeatures)
        {
            NodeProto add = Consumer(biasName, "Add");
            foreach (string input in add.Input)
            {
                if (input != biasName && _producers.TryGetValue(input, out NodeProto? matMul) && matMul.OpType == "MatMul" && matMul.Input.Count == 2)
                {
                    float[] w = Floats(matMul.Input[1], out int[] dims);
                    if (dims.Length != 2 || dims[0] != inFeatures || dims[1] != outFeatures)
                    {
                        Fail($"the matrix of {biasName} ({matMul.Input[1]}) has shape [{string.Join(", ", dims)}]; expected [{inFeatures}, {outFeatures}].");
                    }

                    return w;
                }
            }

            Fail($"the Add of {biasName} does not take a MatMul's output: expected the dense layer MatMul(x, W) + bias.");
            return [];
        }

        // The head count: the Reshape that splits the query projection into [batch, sequence, heads, headDim] takes a
        // Concat (or a constant) whose last two entries are constants heads and headDim.
        private int Heads(int d)
        {
            NodeProto add = Consumer(_prefix + "encoder.layer.0.attention.self.query.bias", "Add");
            foreach (NodeProto reshape in Consumers(add.Output[0]))
            {
                if (reshape.OpType != "Reshape" || reshape.Input.Count < 2)
                {
                    continue;
                }

                List<long> shape = [];
                if (_producers.TryGetValue(reshape.Input[1], out NodeProto? concat) && concat.OpType == "Concat")
                {
                    foreach (string part in concat.Input)
                    {
                        shape.Add(TryConstantInt64(part, out long value) ? value : -2);
                    }
                }
                else if (TryConstantInt64s(reshape.Input[1], out long[] values))
                {
                    shape.AddRange(values);
                }

                if (shape.Count == 4 && shape[2] > 0 && shape[3] > 0 && shape[2] * shape[3] == d)
                {
                    return (int)shape[2];
                }
            }

            Fail("cannot find the head count: expected the query projection to be reshaped to [batch, sequence, heads, headDim] with constant heads and headDim.");
            return 0;
        }

        // The LayerNorm epsilon: a LayerNormalization node's attribute, or the constant added to the variance in the
        // decomposed form (x − mean) / Sqrt(ReduceMean((x − mean)²) + ε) · γ + β.
        private float Epsilon(string gammaName)
        {
            foreach (NodeProto node in Consumers(gammaName))
            {
                if (node.OpType == "LayerNormalization")
                {
                    AttributeProto? attribute = node.Attribute.FirstOrDefault(a => a.Name == "epsilon");
                    return attribute?.F ?? 1e-5f;
                }

                if (node.OpType == "Mul" && _producers.TryGetValue(node.Input[0] == gammaName ? node.Input[1] : node.Input[0], out NodeProto? div)
                    && div.OpType == "Div" && _producers.TryGetValue(div.Input[1], out NodeProto? sqrt) && sqrt.OpType == "Sqrt"
                    && _producers.TryGetValue(sqrt.Input[0], out NodeProto? add) && add.OpType == "Add")
                {
                    foreach (string input in add.Input)
                    {
                        if (TryConstantFloat(input, out float epsilon))
                        {
                            if (!float.IsFinite(epsilon) || epsilon < 0)
                            {
                                Fail(string.Create(CultureInfo.InvariantCulture, $"the LayerNorm epsilon of {gammaName} is {epsilon}; expected a finite number ≥ 0."));
                            }

                            return epsilon;
                        }
                    }
                }
            }

            Fail($"cannot find the LayerNorm epsilon of {gammaName}: expected a LayerNormalization node or the decomposed form with a constant added to the variance.");
            return 0;
        }

        private LinearActivation Activation()
        {
            bool erf = false, tanh = false;
            foreach (NodeProto node in _graph.Node)
            {
                erf |= node.OpType == "Erf";
                tanh |= node.OpType == "Tanh";
            }

            if (erf) return LinearActivation.Gelu;
            if (tanh) return LinearActivation.GeluTanh;
            Fail("cannot tell the feed-forward activation: expected GELU as Erf (exact) or Tanh (approximate) nodes.");
            return LinearActivation.None;
        }

        private NodeProto Consumer(string input, string opType)
        {
            foreach (NodeProto node in Consumers(input))
            {
                if (node.OpType == opType)
                {
                    return node;
                }
            }

            Fail($"{input} is not an input of any {opType} node.");
            return null!;
        }

        private List<NodeProto> Consumers(string input) => _consumers.TryGetValue(input, out List<NodeProto>? list) ? list : [];

        private float[] Vector(string name, int length)
        {
            float[] values = Floats(name, out int[] dims);
            if (dims.Length != 1 || (length >= 0 && dims[0] != length))
            {
                Fail($"{name} has shape [{string.Join(", ", dims)}]; expected [{(length >= 0 ? length.ToString(CultureInfo.InvariantCulture) : "n")}].");
            }

            return values;
        }

        private float[] Matrix(string name, int columns)
        {
            float[] values = Floats(name, out int[] dims);
            if (dims.Length != 2 || dims[1] != columns || dims[0] < 1)
            {
                Fail($"{name} has shape [{string.Join(", ", dims)}]; expected [rows, {columns}].");
            }

            return values;
        }

        // A float32 initializer's values and dims, from raw_data (little-endian) or float_data.
        private float[] Floats(string name, out int[] dims)
        {
            if (!_initializers.TryGetValue(name, out TensorProto? tensor))
            {
                Fail($"no initializer named {name}.");
            }

            if (tensor!.DataLocation == TensorProto.Types.DataLocation.External || tensor.ExternalData.Count != 0)
            {
                Fail($"{name} is stored as external data, which this loader does not read.");
            }

            if (tensor.DataType != (int)TensorProto.Types.DataType.Float)
            {
                Fail(string.Create(CultureInfo.InvariantCulture, $"{name} has ONNX element type {tensor.DataType}; expected 1 (float32)."));
            }

            dims = new int[tensor.Dims.Count];
            long count = 1;
            for (int i = 0; i < dims.Length; i++)
            {
                long dim = tensor.Dims[i];
                if (dim < 0 || dim > Array.MaxLength || (count *= dim) > Array.MaxLength)
                {
                    Fail($"{name} has shape [{string.Join(", ", tensor.Dims)}]: a negative size, or more elements than an array holds.");
                }

                dims[i] = (int)dim;
            }

            if (tensor.RawData.Length != 0)
            {
                if (tensor.RawData.Length != count * sizeof(float))
                {
                    Fail(string.Create(CultureInfo.InvariantCulture, $"{name} holds {tensor.RawData.Length} bytes; its shape [{string.Join(", ", dims)}] needs {count * sizeof(float)}."));
                }

                float[] values = new float[count];
                ReadOnlySpan<byte> bytes = tensor.RawData.Span;
                if (BitConverter.IsLittleEndian)
                {
                    MemoryMarshal.Cast<byte, float>(bytes).CopyTo(values);
                }
                else
                {
                    for (int i = 0; i < values.Length; i++)
                    {
                        values[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * 4, 4));
                    }
                }

                return values;
            }

            if (tensor.FloatData.Count != count)
            {
                Fail(string.Create(CultureInfo.InvariantCulture, $"{name} holds {tensor.FloatData.Count} floats; its shape [{string.Join(", ", dims)}] needs {count}."));
            }

            return [.. tensor.FloatData];
        }

        // A constant: an initializer, or a Constant node's value attribute.
        private TensorProto? ConstantTensor(string name)
        {
            if (_initializers.TryGetValue(name, out TensorProto? t)) return t;
            if (_producers.TryGetValue(name, out NodeProto? node) && node.OpType == "Constant")
            {
                return node.Attribute.FirstOrDefault(a => a.Name == "value")?.T;
            }

            return null;
        }

        private bool TryConstantFloat(string name, out float value)
        {
            value = 0;
            TensorProto? t = ConstantTensor(name);
            if (t is null || t.DataType != (int)TensorProto.Types.DataType.Float) return false;
            if (t.RawData.Length == 4) value = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(t.RawData.Span);
            else if (t.FloatData.Count == 1) value = t.FloatData[0];
            else return false;
            return true;
        }

        private bool TryConstantInt64(string name, out long value)
        {
            value = 0;
            if (!TryConstantInt64s(name, out long[] values) || values.Length != 1) return false;
            value = values[0];
            return true;
        }

        private bool TryConstantInt64s(string name, out long[] values)
        {
            values = [];
            TensorProto? t = ConstantTensor(name);
            if (t is null || t.DataType != (int)TensorProto.Types.DataType.Int64) return false;
            if (t.RawData.Length != 0)
            {
                if (t.RawData.Length % 8 != 0 || t.RawData.Length > 64) return false;
                values = new long[t.RawData.Length / 8];
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(t.RawData.Span.Slice(i * 8, 8));
                }
            }
            else
            {
                values = [.. t.Int64Data];
            }

            return true;
        }

        [System.Diagnostics.CodeAnalysis.DoesNotReturn]
        private void Fail(string problem) => throw new ModelFormatException(_path, problem);
    }
}
